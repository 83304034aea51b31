/** Classifier heads trained on cached feature vectors: the pure training core (no storage, no HTTP). */
export { trainHead } from './train.js';
export { evaluateHead } from './evaluate.js';
export { predictHead } from './predict.js';
export { serializeHead, deserializeHead, HEAD_WEIGHTS_FILE } from './serialize.js';
export { resolveHeadSpec, DEFAULT_HEAD_SPEC } from './spec.js';
export { buildHeadModel, denseName, dropoutName, PREDICTIONS_NAME } from './model.js';
export { resolveEngine } from './engines/index.js';
export * from './errors.js';
export * from './types.js';
