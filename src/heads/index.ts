/**
 * Classifier heads trained on cached feature vectors: the training core (no storage, no HTTP), and the job
 * runner that trains one from a dataset's cached features and publishes it (job.ts).
 */
export { runTrainingJob, type RunJobOptions } from './job.js';
export { trainHead } from './train.js';
export { evaluateHead } from './evaluate.js';
export { predictHead } from './predict.js';
export { serializeHead, deserializeHead, HEAD_WEIGHTS_FILE } from './serialize.js';
export { resolveHeadSpec, DEFAULT_HEAD_SPEC } from './spec.js';
export { buildHeadModel, denseName, dropoutName, PREDICTIONS_NAME } from './model.js';
export { resolveEngine } from './engines/index.js';
export * from './errors.js';
export * from './types.js';
