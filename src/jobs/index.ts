/**
 * Training jobs of both kinds: `jobs/<jobId>.json` records, POST /train validation, and the transitions a
 * job goes through outside its runner (resume, a worker that failed). No TF.js here: the runners live with
 * what they train (src/heads/job.ts, src/finetune/job.ts).
 */
export { jobErrorOf } from './job-error.js';
export { createJob, createFinetuneJob, createPredictJob, queuedPredictJob, createIssuesJob, queuedIssuesJob, imageProgressOf, failJob, presentJob, queuedJob, queuedFinetuneJob, readJob, writeJob, STALE_RUNNING_MS, jobKey, newJobId, validateJobId, JOBS_PREFIX } from './records.js';
export { parseTrainRequest, InvalidTrainRequestError, HEAD_LIMITS } from './request.js';
export { checkBaseModel } from './base.js';
export { parsePredictRequest, InvalidPredictRequestError, PREDICT_LIMITS } from './predict-request.js';
export { resumeJob, showJob, withWorker, type JobLauncher } from './transitions.js';
export { recoverJobs, type RecoveredJobs } from './recover.js';
export { checkTrainingDataset, listDatasets, trainingLabels } from './preflight.js';
export { checkMemoryBudget, estimateTrainingBytes, isAllocationFailure, memoryLimitBytes } from './memory.js';
export * from './errors.js';
export * from './types.js';
export { clearStop, requestStop, stopKey, watchForStop, STOP_POLL_MS } from './stop.js';
