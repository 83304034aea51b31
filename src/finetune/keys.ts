import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { JOBS_PREFIX, validateJobId } from '../jobs/records.js';
import { timestampId } from '../registry/keys.js';

/** `models/finetuned/<modelId>/`: one folder per fine-tuned model, beside `models/heads/`. */
export const FINETUNED_PREFIX = 'models/finetuned/';

/** The files of a fine-tuned model, in the order they are written; the pointer comes after all of them. */
export const FINETUNED_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  labels: 'labels.json',
  config: 'config.json',
  metrics: 'metrics.json',
  onnx: 'model.onnx',
} as const;

/** Written last: a fine-tuned model exists for readers exactly when this object does. */
export const FINETUNED_POINTER = '_published.json';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Ids are one path segment: 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export function validateFinetunedId(modelId: string): string {
  if (typeof modelId !== 'string' || !ID.test(modelId)) {
    throw new InvalidArgumentError(
      `Invalid fine-tuned model id ${JSON.stringify(modelId)}: use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
    );
  }
  return modelId;
}

/** `<dataset>-ft-<YYYYMMDD-HHMMSS>-<6 hex>`: readable, sortable per dataset, unique without coordination. */
export function newFinetunedId(dataset: string, now: Date = new Date()): string {
  return `${dataset.slice(0, 90)}-ft-${timestampId(now)}-${randomBytes(3).toString('hex')}`;
}

export function finetunedKey(modelId: string, file: string): string {
  return `${FINETUNED_PREFIX}${validateFinetunedId(modelId)}/${file}`;
}

export function finetunedPointerKey(modelId: string): string {
  return finetunedKey(modelId, FINETUNED_POINTER);
}

/** `jobs/<jobId>/checkpoint/`: the state a stopped job resumes from. */
export function checkpointPrefix(jobId: string): string {
  return `${JOBS_PREFIX}${validateJobId(jobId)}/checkpoint/`;
}
