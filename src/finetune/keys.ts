import { validateJobId } from '../jobs/records.js';
import { FINETUNED, POINTER_FILE } from '../registry/kinds.js';
import { modelFileKey, modelPointerKey, newModelId, validateModelId } from '../registry/keys.js';
import { checkpointPrefix as layoutCheckpointPrefix } from '../layout.js';

// The fine-tuned kind's names for the registry's rules (src/registry), and the checkpoint's key.

/** `models/finetuned/<modelId>/`: one folder per fine-tuned model, beside `models/heads/`. */
export const FINETUNED_PREFIX = FINETUNED.prefix;

/** The files of a fine-tuned model, in the order they are written; the pointer comes after all of them. */
export const FINETUNED_FILES = FINETUNED.files;

/** Written last: a fine-tuned model exists for readers exactly when this object does. */
export const FINETUNED_POINTER = POINTER_FILE;

/** Ids are one path segment: 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export const validateFinetunedId = (modelId: string): string => validateModelId(FINETUNED, modelId);

/** `<dataset>-ft-<YYYYMMDD-HHMMSS>-<6 hex>`: readable, sortable per dataset, unique without coordination. */
export const newFinetunedId = (dataset: string, now: Date = new Date()): string => newModelId(dataset, now, 'ft');

export const finetunedKey = (modelId: string, file: string): string => modelFileKey(FINETUNED, modelId, file);

export const finetunedPointerKey = (modelId: string): string => modelPointerKey(FINETUNED, modelId);

/** `jobs/<jobId>/checkpoint/`: the state a stopped job resumes from. */
export function checkpointPrefix(jobId: string): string {
  return layoutCheckpointPrefix(validateJobId(jobId));
}
