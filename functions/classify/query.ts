import type { APIGatewayProxyEvent } from 'aws-lambda';
import { InvalidArgumentError, listValues } from '../../src/errors.js';
import type { FeatureCut } from '../../src/features/pipeline.js';
import { validateFinetunedId } from '../../src/finetune/keys.js';
import { validateHeadId } from '../../src/registry/keys.js';
import { validateDatasetName } from '../../src/layout.js';
import { getModelSpec, MODEL_IDS } from '../../src/zoo/index.js';
import type { Pooling } from '../../src/zoo/types.js';

export const DEFAULT_TOP = 5;
export const MAX_TOP = 1000;
const POOLINGS: readonly Pooling[] = ['avg', 'max'];

export interface ClassifyQuery {
  /** A zoo model id: its pretrained ImageNet classifier. */
  model?: string;
  /** A published fine-tuned model (`?model=<id>` that is not a zoo id): its own labels. */
  finetuned?: string;
  /** A published head id: base features, then the head's labels. */
  head?: string;
  top: number;
  /** Keep every image for a person's review (`review=true`), under `reviews/<dataset>/`. */
  review?: boolean;
  /**
   * Below this top probability the answer's label is null (`belowThreshold: true`), and the image is kept
   * for review; query or JSON body.
   */
  minConfidence?: number;
  /** The dataset whose review queue gets them; default: the head's training dataset. */
  dataset?: string;
}

export interface FeaturesQuery {
  model?: string;
  /** A published fine-tuned model: the pooled features of its fine-tuned base, in their own namespace. */
  finetuned?: string;
  /** Where to cut; absent: the service's cut for its own model, else the model's default feature layer. */
  cut?: FeatureCut;
}

export interface ExplainQuery {
  /** A zoo model id: its ImageNet classifier (absent, and no head: the service's model). */
  model?: string;
  head?: string;
  /** The class to explain, a label or an output index; absent: the top class. */
  className?: string;
  /** The layer whose feature map is explained; absent: the base's last one. */
  layer?: string;
  top: number;
}

/** `?model=|head=&class=&layer=&top=` of POST /explain. */
export function parseExplainQuery(event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>): ExplainQuery {
  const query = readQuery(event, ['model', 'head', 'class', 'layer', 'top']);
  const { model, finetuned } = parseModel(query.model);
  if (finetuned !== undefined) {
    throw new InvalidArgumentError(`POST /explain explains a zoo model's ImageNet classifier (${listValues(MODEL_IDS)}) or a head (head=<id>), not fine-tuned model '${finetuned}'.`);
  }
  if (model !== undefined && query.head !== undefined) {
    throw new InvalidArgumentError(`Give 'model' (an ImageNet classifier) or 'head' (a head on its own base), not both.`);
  }
  return { model, head: query.head === undefined ? undefined : validateHeadId(query.head), className: query.class, layer: query.layer, top: parseTop(query.top) };
}

/** `?model=&head=&top=` of POST /classify, validated with messages that list the valid values. */
export function parseClassifyQuery(event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>): ClassifyQuery {
  const query = readQuery(event, ['model', 'head', 'top', 'review', 'minConfidence', 'dataset']);
  const model = parseModel(query.model);
  if (model.finetuned !== undefined && query.head !== undefined) {
    throw new InvalidArgumentError(`Give 'model=${model.finetuned}' (a fine-tuned model, with its own labels) or 'head', not both.`);
  }
  return {
    ...model,
    head: query.head === undefined ? undefined : validateHeadId(query.head),
    top: parseTop(query.top),
    ...parseReview(query),
  };
}

/** `review=true|false`, `minConfidence=0…1`, `dataset=<name>`: which images go to the review queue, and whose. */
function parseReview(query: Record<string, string | undefined>): Pick<ClassifyQuery, 'review' | 'minConfidence' | 'dataset'> {
  const out: Pick<ClassifyQuery, 'review' | 'minConfidence' | 'dataset'> = {};
  if (query.review !== undefined) {
    if (query.review !== 'true' && query.review !== 'false') throw new InvalidArgumentError(`'review' must be 'true' or 'false', got '${query.review}'.`);
    out.review = query.review === 'true';
  }
  if (query.minConfidence !== undefined) out.minConfidence = parseMinConfidence(query.minConfidence);
  if (query.dataset !== undefined) out.dataset = validateDatasetName(query.dataset);
  return out;
}

/** `minConfidence` from the query (text) or a JSON body (a number): a probability from 0 to 1. */
export function parseMinConfidence(value: unknown): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!(number >= 0 && number <= 1)) throw new InvalidArgumentError(`'minConfidence' must be a number from 0 to 1, got ${JSON.stringify(value)}.`);
  return number;
}

/** A zoo id (`model`), else the id of a fine-tuned model (`finetuned`); the registry says whether one is published. */
function parseModel(value: string | undefined): { model?: string; finetuned?: string } {
  if (value === undefined) return {};
  if ((MODEL_IDS as readonly string[]).includes(value)) return { model: getModelSpec(value).id };
  try {
    return { finetuned: validateFinetunedId(value) };
  } catch {
    throw new InvalidArgumentError(`Unknown model '${value}': expected ${listValues(MODEL_IDS)}, or the id of a fine-tuned model (GET /models lists them).`);
  }
}

/** `?model=&layer=&pooling=` of POST /features. */
export function parseFeaturesQuery(event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>, defaultModel: string): FeaturesQuery {
  const query = readQuery(event, ['model', 'layer', 'pooling']);
  const { finetuned } = parseModel(query.model);
  if (finetuned !== undefined) {
    if (query.layer !== undefined || query.pooling !== undefined) {
      throw new InvalidArgumentError(`A fine-tuned model gives one feature cut, its base's global average pooling: leave out 'layer' and 'pooling'.`);
    }
    return { finetuned };
  }
  const spec = getModelSpec(query.model ?? defaultModel);
  if (query.layer !== undefined && query.pooling !== undefined) {
    throw new InvalidArgumentError("Give either 'layer' or 'pooling', not both: 'pooling' cuts the model without its top and pools the last feature map.");
  }
  if (query.layer !== undefined) {
    const layers = Object.keys(spec.featureLayers);
    if (!layers.includes(query.layer)) throw new InvalidArgumentError(`Unknown feature layer '${query.layer}' for ${spec.id}: expected ${listValues(layers)}.`);
    return { model: query.model && spec.id, cut: { layer: query.layer } };
  }
  if (query.pooling !== undefined) {
    if (!POOLINGS.includes(query.pooling as Pooling)) throw new InvalidArgumentError(`Unknown pooling '${query.pooling}': expected ${listValues(POOLINGS)}.`);
    return { model: query.model && spec.id, cut: { pooling: query.pooling as Pooling } };
  }
  return { model: query.model && spec.id };
}

function readQuery(event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>, known: readonly string[]): Record<string, string | undefined> {
  const query: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (!known.includes(name)) throw new InvalidArgumentError(`Unknown query parameter '${name}': expected ${listValues(known)}.`);
    if (value !== undefined && value !== '') query[name] = value;
  }
  return query;
}

function parseTop(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TOP;
  const top = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(top >= 1 && top <= MAX_TOP)) throw new InvalidArgumentError(`'top' must be an integer from 1 to ${MAX_TOP}, got '${value}'.`);
  return top;
}
