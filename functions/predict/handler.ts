import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { HeadstartError, InvalidArgumentError } from '../../src/errors.js';
import type { FeatureNamespace } from '../../src/features/namespace.js';
import { failJob, readJob, type StoredJob } from '../../src/jobs/index.js';
import { logger } from '../../src/logger.js';
import { runPredictJob, type CompletionEvents, type ImageClassifier, type WebhookOptions } from '../../src/predict/index.js';
import type { ObjectStore } from '../../src/store/index.js';
import { metrics } from '../shared/metrics.js';
import { DEADLINE_MARGIN_MS, parseTrainEvent, underStopSignal } from '../train/handler.js';

export interface PredictDeps {
  store: ObjectStore;
  /** The service's feature namespace (`namespaceFor` in functions/shared): the runner's, though a `model` job reads no cache. */
  namespace: () => Promise<FeatureNamespace>;
  /** Runs the whole network on each image: this image's classify service (serviceClassifier), as POST /classify does. */
  classifier: ImageClassifier;
  /** Where completion is announced besides the webhook (EventBridge's default bus). */
  events?: CompletionEvents;
  webhook?: WebhookOptions;
}

export type PredictResult = Pick<StoredJob, 'jobId' | 'status' | 'error'>;

/**
 * Time kept back from the function's limit for what follows the last batch: writing results.jsonl and
 * results.csv, the job record, the EventBridge event and the webhook (4 tries of at most 10 s, 3.5 s of backoff).
 */
export const PREDICT_WRAP_UP_MS = 60_000;

function summary(job: StoredJob): PredictResult {
  return { jobId: job.jobId, status: job.status, error: job.error };
}

/**
 * The predict function: runs one queued batch prediction job with a `model` (`{ jobId }`, POST /predict's
 * asynchronous invoke): every image under the prefix through the whole network, on the classify function's
 * image (ONNX Runtime, sharp, the baked weights; a fine-tuned model's published model.onnx). Images are
 * classified in key order until PREDICT_WRAP_UP_MS before the invocation's time limit; those not reached fail
 * with 'NotReached' and the job ends with the rest, its results written and announced (one invocation, no
 * continuation). Head jobs are the train function's (cached features, no network): one sent here fails.
 * The job record carries the outcome; the function throws only when there is no record to write to.
 */
export function createPredictHandler(resolveDeps: () => Promise<PredictDeps>) {
  return middy(async (event: unknown, context?: Context): Promise<PredictResult> => {
    const jobId = parseTrainEvent(event);
    const { store, namespace, classifier, events, webhook } = await resolveDeps();
    const job = await readJob(store, jobId);
    if (job.kind !== 'predict' || job.request.model === undefined) {
      const what = job.kind === 'predict' ? 'a batch prediction job with a head' : `a ${job.kind} job`;
      return summary(await failJob(store, jobId, new InvalidArgumentError(`The predict function runs batch prediction jobs with a model; job ${jobId} is ${what}, which the train function runs.`), ['queued']));
    }
    let ns: FeatureNamespace;
    try {
      ns = await namespace();
    } catch (error) {
      return summary(await failJob(store, jobId, error));
    }
    const remaining = context?.getRemainingTimeInMillis?.();
    const until = remaining === undefined ? undefined : Date.now() + Math.max(0, remaining - PREDICT_WRAP_UP_MS);
    // The deadline above ends the job cleanly; this one is the last resort, should a batch or the wrap-up run long.
    const reason = new HeadstartError('PredictionTimeout', `The prediction job stopped ${DEADLINE_MARGIN_MS / 1000} s before the predict function's time limit, before its results were written: POST /predict again on a smaller prefix.`);
    return underStopSignal(store, jobId, context, { metric: 'PredictionJobTime', reason }, async (signal) => {
      const done = await runPredictJob(store, jobId, { namespace: ns, classifier, events, webhook, signal, deadline: until });
      logger.info('predict function finished its job', { jobId, status: done.status, images: done.progress.images });
      return summary(done);
    });
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}
