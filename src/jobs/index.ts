/**
 * Training jobs: `jobs/<jobId>.json` records, POST /train validation, and the runner that trains and publishes.
 * Only runner.ts needs TF.js: the API imports the other modules directly, so its bundle stays free of it.
 */
export { runTrainingJob, type RunJobOptions } from './runner.js';
export { jobErrorOf } from './job-error.js';
export { createJob, createFinetuneJob, failJob, presentJob, queuedJob, queuedFinetuneJob, readJob, writeJob, STALE_RUNNING_MS, jobKey, newJobId, validateJobId, JOBS_PREFIX } from './records.js';
export { parseTrainRequest, InvalidTrainRequestError, HEAD_LIMITS } from './request.js';
export { checkBaseModel } from './base.js';
export { checkTrainingDataset, listDatasets, trainingLabels } from './preflight.js';
export { checkMemoryBudget, estimateTrainingBytes, isAllocationFailure, memoryLimitBytes } from './memory.js';
export * from './errors.js';
export * from './types.js';
