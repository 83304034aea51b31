/**
 * The registry of published models, one set of rules for every kind (kinds.ts): `models/<kind>/<id>/`,
 * files first and a pointer with their digests last, digest-checked reads, ids unique across kinds.
 * Heads (this folder) and fine-tuned models (src/finetune) supply their files and summaries.
 */
export { publishHead, layersModelFiles, type HeadDraft } from './publish.js';
export { listHeads, getHead, deleteHead, readPointer } from './read.js';
export { loadHead } from './load.js';
export { HeadCache, type HeadCacheOptions } from './cache.js';
export { FINETUNED, HEADS, MODEL_KINDS, MODELS_PREFIX, POINTER_FILE, type ModelKind } from './kinds.js';
export {
  HEAD_FILES,
  HEADS_PREFIX,
  headPrefix,
  modelFileKey,
  modelIdOfPointer,
  modelPointerKey,
  modelPrefix,
  newHeadId,
  newModelId,
  pointerKey,
  validateHeadId,
  validateModelId,
} from './keys.js';
export { assertModelIdFree, deleteModel, jsonBody, listModels, publishModel, readModelFile, readModelJson, readModelPointer, type PublishedFile } from './published.js';
export type { FileDigest, SummaryBase } from './pointer.js';
export * from './errors.js';
export type { EvaluatedOn, HeadBase, HeadDetails, HeadInfo, HeadMetricsFile, HeadSummary, LoadedHead, PublishedPointer } from './types.js';
