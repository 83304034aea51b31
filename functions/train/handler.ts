import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { HeadstartError, InvalidArgumentError } from '../../src/errors.js';
import type { FeatureNamespace } from '../../src/features/pipeline.js';
import { runTrainingJob } from '../../src/heads/job.js';
import { failJob, readJob, validateJobId, watchForStop, type JobRecord, type StoredJob } from '../../src/jobs/index.js';
import { runIssuesJob } from '../../src/datatools/issues-job.js';
import { runPredictJob, type RunPredictOptions } from '../../src/predict/run.js';
import type { ObjectStore } from '../../src/store/index.js';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '../../src/logger.js';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { metrics, MetricUnit } from '../shared/metrics.js';

export interface TrainDeps {
  store: ObjectStore;
  /**
   * The service's feature namespace (`namespaceFor` in functions/shared). A function, so a deployment
   * without a weights index fails the job with that reason instead of leaving it queued.
   */
  namespace: () => Promise<FeatureNamespace>;
  /**
   * Batch prediction jobs (POST /predict) run here too (the head pass: TF.js on cached features, as
   * training): how images without features reach the extract path, and where completion is announced.
   * Absent: a prediction job fails with PredictUnavailable.
   */
  predict?: (context: PredictContext) => Pick<RunPredictOptions, 'extraction' | 'events' | 'webhook'>;
}

/** What the prediction options are built from, per invocation. */
export interface PredictContext {
  namespace: FeatureNamespace;
  /** Milliseconds left before the job must stop (the deadline margin taken off); undefined without a Lambda context. */
  remainingMs: number | undefined;
}

/** What the API's asynchronous invoke sends. */
export interface TrainEvent {
  jobId: string;
}

export type TrainResult = Pick<JobRecord, 'jobId' | 'status' | 'headId' | 'error'>;

/** Time a prediction job keeps for its head pass and results after waiting for the extract path. */
export const PREDICT_HEAD_PASS_MS = 120_000;

/**
 * Time kept back from the function's limit: enough to stop between batches, record the job as failed and
 * return, instead of being killed with the job left 'running' for ever.
 */
export const DEADLINE_MARGIN_MS = 15_000;

function summary(job: StoredJob): TrainResult {
  return { jobId: job.jobId, status: job.status, headId: job.kind === 'train' ? job.headId : undefined, error: job.error };
}

export function parseTrainEvent(event: unknown): string {
  const jobId = (event as Partial<TrainEvent> | null)?.jobId;
  if (typeof jobId !== 'string') throw new InvalidArgumentError(`The train function expects {"jobId": "job-…"}, got ${JSON.stringify(event)?.slice(0, 200)}.`);
  return validateJobId(jobId);
}

/**
 * An AbortSignal that fires DEADLINE_MARGIN_MS before the invocation's time runs out (never, without a context),
 * with `reason` (by default the train function's TrainingTimeout). The predict function stops on it too.
 */
export function deadline(context: Context | undefined, reason?: HeadstartError): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const remaining = context?.getRemainingTimeInMillis?.();
  if (remaining === undefined) return { signal: controller.signal, clear: () => {} };
  reason ??= new HeadstartError(
    'TrainingTimeout',
    `Training stopped ${DEADLINE_MARGIN_MS / 1000} s before the train function's time limit: ` +
      'lower head.epochs or head.patience, train on fewer images, or raise the function timeout.',
  );
  const timer = setTimeout(() => controller.abort(reason), Math.max(0, remaining - DEADLINE_MARGIN_MS));
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * Runs one invocation's job under its stop signal (POST /jobs/{id}/stop, or the deadline, aborting with `reason`),
 * then clears both watches and records how long the work took as `metric`. The predict function runs its jobs
 * through here too.
 */
export async function underStopSignal<T>(
  store: ObjectStore,
  jobId: string,
  context: Context | undefined,
  options: { metric: string; reason?: HeadstartError },
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { signal: timeUp, clear } = deadline(context, options.reason);
  const { signal, close } = watchForStop(store, jobId, timeUp);
  const started = performance.now();
  try {
    return await work(signal);
  } finally {
    close();
    clear();
    metrics.addMetric(options.metric, MetricUnit.Milliseconds, Math.round(performance.now() - started));
  }
}

/**
 * The train function: runs one queued job (`{ jobId }`, from POST /train's or POST /predict's asynchronous
 * invoke, or GET /datasets/{name}/issues above its synchronous limit, or the local launcher): head training, a batch
 * prediction's head pass, or a dataset's issues. The job record carries the outcome; the function returns a summary of it and throws
 * only when there is no record to write to (unknown job, storage down).
 */
export function createTrainHandler(resolveDeps: () => Promise<TrainDeps>) {
  return middy(async (event: unknown, context?: Context): Promise<TrainResult> => {
    const jobId = parseTrainEvent(event);
    const { store, namespace, predict } = await resolveDeps();
    let ns: FeatureNamespace;
    try {
      ns = await namespace();
    } catch (error) {
      return summary(await failJob(store, jobId, error));
    }
    const kind = (await readJob(store, jobId)).kind;
    const metric = kind === 'predict' ? 'PredictionJobTime' : kind === 'issues' ? 'DatasetIssuesJobTime' : 'HeadTrainingTime';
    return underStopSignal(store, jobId, context, { metric }, async (signal) => {
      if (kind === 'predict') {
        const remaining = context?.getRemainingTimeInMillis?.();
        const remainingMs = remaining === undefined ? undefined : Math.max(0, remaining - DEADLINE_MARGIN_MS - PREDICT_HEAD_PASS_MS);
        const options = predict ? predict({ namespace: ns, remainingMs }) : {};
        return summary(await runPredictJob(store, jobId, { namespace: ns, signal, ...options }));
      }
      // GET /datasets/{name}/issues above the synchronous limit: the cached features in, the answer to the issues cache.
      if (kind === 'issues') return summary(await runIssuesJob(store, jobId, { namespace: ns, signal }));
      return summary(await runTrainingJob(store, jobId, { namespace: ns, signal }));
    });
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}
