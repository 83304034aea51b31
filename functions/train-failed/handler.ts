import middy from '@middy/core';
import { HeadstartError } from '../../src/errors.js';
import { failJob, readJob, validateJobId } from '../../src/jobs/records.js';
import type { StoredJob } from '../../src/jobs/types.js';
import type { ObjectStore } from '../../src/store/index.js';
import { logger } from '../../src/logger.js';

/**
 * What Lambda sends an asynchronous invocation's on-failure destination
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html): the original event, why
 * it failed, and the function's error when it ran at all.
 */
export interface AsyncFailureRecord {
  requestContext: { requestId: string; functionArn: string; condition: 'RetriesExhausted' | 'EventAgeExceeded' | string; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext?: { statusCode?: number; functionError?: string };
  responsePayload?: { errorType?: string; errorMessage?: string } | null;
}

export interface TrainFailedDeps {
  store: ObjectStore;
}

/** The function whose invocation failed, as its job's messages name it and what they advise. */
export interface FailedRunner {
  name: string;
  timedOut: string;
  outOfMemory: string;
}

/** Head training, a head's batch prediction, a dataset's issues: the train function. */
export const TRAIN_RUNNER: FailedRunner = {
  name: 'train function',
  timedOut: 'lower head.epochs or head.patience, or train on fewer images',
  outOfMemory: 'raise its memory (trainMemoryMb), train on fewer images, or pick a smaller feature layer or head',
};

/** Batch prediction with a model: the predict function (infra/predict.ts), which shares this destination. */
export const PREDICT_RUNNER: FailedRunner = {
  name: 'predict function',
  timedOut: 'POST /predict again on a smaller prefix',
  outOfMemory: 'raise its memory (classifyMemoryMb, which it shares with the classify function), or predict with a smaller model',
};

/**
 * Why the trainer could not record its own end: killed at its time limit, out of memory, a crash of the runtime,
 * or never started (the event aged out of Lambda's queue). Our own errors never get here: the trainer records
 * them and returns.
 */
export function trainerFailure(record: AsyncFailureRecord, runner: FailedRunner = TRAIN_RUNNER): HeadstartError {
  const { errorType = '', errorMessage = '' } = record.responsePayload ?? {};
  if (record.requestContext.condition === 'EventAgeExceeded') {
    return new HeadstartError(
      'TrainerNeverStarted',
      `The ${runner.name} never ran this job: the request waited in Lambda's asynchronous queue past its maximum age (the function was throttled or failing). Start a new job.`,
    );
  }
  const timedOut = /Task timed out.*/i.exec(errorMessage);
  if (timedOut) {
    return new HeadstartError('TrainerTimedOut', `The ${runner.name} was stopped at its time limit (${timedOut[0]}): ${runner.timedOut}.`);
  }
  if (/OutOfMemory/i.test(errorType) || /signal: killed/i.test(errorMessage)) {
    return new HeadstartError('TrainerOutOfMemory', `The ${runner.name} ran out of memory: ${runner.outOfMemory}.`);
  }
  const detail = [errorType, errorMessage].filter(Boolean).join(': ') || 'no error reported';
  return new HeadstartError('TrainerCrashed', `The ${runner.name} failed outside the job's code (${detail}); its logs have the details. Start a new job.`);
}

/** The job id of the original `{ jobId }` event, or undefined when the payload is not one (nothing to mark). */
function jobIdOf(payload: unknown): string | undefined {
  const jobId = (payload as { jobId?: unknown } | null)?.jobId;
  if (typeof jobId !== 'string') return undefined;
  try {
    return validateJobId(jobId);
  } catch {
    return undefined;
  }
}

/**
 * The on-failure destination of the train function and of the predict function: marks the job failed with the
 * reason, when it is still queued or running (a job whose runner recorded an end is left as it said).
 */
export function createTrainFailedHandler(resolveDeps: () => Promise<TrainFailedDeps>) {
  return middy(async (record: AsyncFailureRecord): Promise<Pick<StoredJob, 'jobId' | 'status'> | { skipped: string }> => {
    const jobId = jobIdOf(record.requestPayload);
    if (!jobId) {
      logger.error('on-failure record without a job id', { record: JSON.stringify(record).slice(0, 2000) });
      return { skipped: 'no jobId in the request payload' };
    }
    const { store } = await resolveDeps();
    // A batch prediction job with a model ran in the predict function (the same destination serves both).
    const queued = await readJob(store, jobId).catch(() => undefined);
    const runner = queued?.kind === 'predict' && queued.request.model !== undefined ? PREDICT_RUNNER : TRAIN_RUNNER;
    const job = await failJob(store, jobId, trainerFailure(record, runner), ['queued', 'running']);
    return { jobId: job.jobId, status: job.status };
  });
}
