import { InvalidArgumentError } from '../errors.js';
import type { FeatureNamespace } from '../features/namespace.js';
import { TrainingAbortedError } from '../heads/errors.js';
import { jobErrorOf } from '../jobs/job-error.js';
import { readJob, writeJob } from '../jobs/records.js';
import type { IssuesJobRecord } from '../jobs/types.js';
import { logger } from '../logger.js';
import type { ObjectStore } from '../store/index.js';
import { planDatasetIssues } from './issues.js';

export interface RunIssuesOptions {
  /** The service's feature namespace: the issues are computed from its cached features. */
  namespace: FeatureNamespace;
  /** Checked before the computation starts (the finders themselves run to the end); the job then fails with its reason. */
  signal?: AbortSignal;
}

/**
 * Runs one queued dataset issues job (GET /datasets/{name}/issues above the synchronous limit): the same
 * computation as `headstart issues` (planDatasetIssues, no size limit), written to the same cache key, which
 * the route then serves. The record says where the answer is (`result.key`) and what it found. Resolves with
 * the final record; rejects only when the record cannot be read or written. A job that is not queued is
 * returned as it is.
 */
export async function runIssuesJob(store: ObjectStore, jobId: string, options: RunIssuesOptions): Promise<IssuesJobRecord> {
  const queued = await readJob(store, jobId);
  if (queued.kind !== 'issues') throw new InvalidArgumentError(`Job '${jobId}' is a ${queued.kind} job, not a dataset issues job.`);
  if (queued.status !== 'queued') return queued;
  let job: IssuesJobRecord = { ...queued, status: 'running', startedAt: new Date().toISOString(), error: undefined, finishedAt: null };
  await writeJob(store, job);
  logger.info('dataset issues job started', { jobId, request: job.request });
  try {
    const plan = await planDatasetIssues(store, options.namespace, job.request.dataset, { against: job.request.against });
    if (options.signal?.aborted) throw options.signal.reason ?? new TrainingAbortedError();
    job = { ...job, cacheKey: plan.key, progress: { ...job.progress, issues: { phase: 'computing', images: plan.images } } };
    await writeJob(store, job);
    const issues = plan.cached ?? (await plan.compute());
    job = {
      ...job,
      status: 'succeeded',
      finishedAt: new Date().toISOString(),
      progress: { ...job.progress, issues: { phase: 'done', images: issues.images } },
      result: {
        key: plan.key,
        images: issues.images,
        duplicates: issues.duplicates.length,
        leakage: issues.leakage.length,
        labelIssues: issues.labelIssues.length,
        outliers: issues.outliers.length,
        computeMs: issues.computeMs,
      },
    };
  } catch (error) {
    const jobError = jobErrorOf(error, jobId);
    const internal = jobError.code === 'InternalError';
    logger[internal ? 'error' : 'warn']('dataset issues job failed', { jobId, ...jobError, ...(internal ? { stack: (error as Error)?.stack } : {}) });
    job = { ...job, status: 'failed', finishedAt: new Date().toISOString(), error: jobError };
  }
  await writeJob(store, job);
  return job;
}
