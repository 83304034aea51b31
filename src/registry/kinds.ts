import type { HeadstartError } from '../errors.js';
import { CorruptFinetunedModelError, CorruptHeadError, FinetunedModelNotFoundError, HeadNotFoundError } from './errors.js';
import { MODEL_PREFIX, PREFIX } from '../layout.js';

/**
 * A kind of published model: where its folders live, which files it has, and the errors that name it.
 * The registry's rules (id, key layout, pointer, publish, read, list, delete) are the same for every kind.
 */
export interface ModelKind<Files extends Record<string, string> = Record<string, string>> {
  readonly name: 'head' | 'finetuned';
  /** `models/<folder>/`: one folder per model below it. */
  readonly prefix: string;
  /** How messages name one model of this kind. */
  readonly noun: string;
  /** The model's files, in the order they are published; the pointer comes after all of them. */
  readonly files: Files;
  notFound(id: string): HeadstartError;
  corrupt(id: string, detail: string, options?: { cause?: unknown }): HeadstartError;
}

/** `models/` holds every kind's folder (src/layout.ts). */
export const MODELS_PREFIX = PREFIX.models;

/** Written last: a model exists for readers exactly when this object does. */
export const POINTER_FILE = '_published.json';

/** Heads trained on cached features: `models/heads/<headId>/`. */
export const HEADS = {
  name: 'head',
  prefix: MODEL_PREFIX.heads,
  noun: 'head',
  files: { model: 'model.json', weights: 'weights.bin', info: 'head.json', metrics: 'metrics.json' },
  notFound: (id) => new HeadNotFoundError(id),
  corrupt: (id, detail, options) => new CorruptHeadError(id, detail, options),
} as const satisfies ModelKind;

/** Fine-tuned networks (base + head): `models/finetuned/<modelId>/`, TF.js layers and the same model in ONNX. */
export const FINETUNED = {
  name: 'finetuned',
  prefix: MODEL_PREFIX.finetuned,
  noun: 'fine-tuned model',
  files: { model: 'model.json', weights: 'weights.bin', labels: 'labels.json', config: 'config.json', metrics: 'metrics.json', onnx: 'model.onnx' },
  notFound: (id) => new FinetunedModelNotFoundError(id),
  corrupt: (id, detail, options) => new CorruptFinetunedModelError(id, detail, options),
} as const satisfies ModelKind;

/** Every kind, in the order GET /models/{id} looks an id up. Ids are unique across kinds. */
export const MODEL_KINDS: readonly ModelKind[] = [HEADS, FINETUNED];
