import type { ObjectStore } from '../store/index.js';
import { FinetuneUnavailableError, JobNotResumableError } from './errors.js';
import { presentJob, readJob, writeJob } from './records.js';
import type { FinetuneJobRecord, StoredJob, WorkerStatus } from './types.js';
import { logger } from '../logger.js';

/** What runs jobs somewhere else (a Lambda invoke, AWS Batch, a local worker); functions/api/launchers.ts has them. */
export interface JobLauncher {
  launch(jobId: string): Promise<void>;
  /** The runner's view of a launched job whose record still says queued; absent where the record says it all. */
  describe?(jobId: string): Promise<WorkerStatus | undefined>;
}

/**
 * A queued job as its runner sees it: `worker` added, and a worker that failed before the job started (an
 * image that cannot be pulled, attempts used up) makes the job failed ('WorkerFailed') and resumable.
 */
export function withWorker<T extends StoredJob>(job: T, worker: WorkerStatus): T {
  if (worker.status !== 'FAILED') return { ...job, worker };
  const reason = worker.statusReason ? `: ${worker.statusReason}` : '';
  return {
    ...job,
    worker,
    status: 'failed',
    error: {
      code: 'WorkerFailed',
      message: `The fine-tuning worker (${worker.runner} job ${worker.id ?? '?'}) failed before the job started${reason}. POST /jobs/${job.jobId}/resume submits it again.`,
    },
  };
}

/**
 * The job as GET /jobs/{id} shows it: a trainer that went quiet shows as failed (presentJob), and a
 * fine-tuning job still queued also shows its runner's view (AWS Batch says RUNNABLE while no GPU is
 * free). The stored record is left alone.
 */
export async function showJob(stored: StoredJob, launcher?: JobLauncher): Promise<StoredJob> {
  const job = presentJob(stored);
  if (job.kind !== 'finetune' || job.status !== 'queued' || !launcher?.describe) return job;
  let worker: WorkerStatus | undefined;
  try {
    worker = await launcher.describe(job.jobId);
  } catch (error) {
    // The record is still the truth; the runner's view is extra.
    logger.warn('could not read the worker status', { jobId: job.jobId, error });
  }
  return worker ? withWorker(job, worker) : job;
}

/**
 * Runs a failed fine-tuning job again from its last complete epoch (its checkpoint), under the same id:
 * the record goes back to queued and the launcher gets it. A launch that fails puts the record back as it
 * was, so the job stays resumable. JobNotResumableError for a head training job (seconds, no checkpoint)
 * or a job that did not fail; FinetuneUnavailableError without a fine-tuning launcher.
 */
export async function resumeJob(store: ObjectStore, jobId: string, launcher: JobLauncher | undefined): Promise<FinetuneJobRecord> {
  const stored = await readJob(store, jobId);
  const job = await showJob(stored, launcher);
  if (job.kind !== 'finetune') {
    throw new JobNotResumableError(`Job '${job.jobId}' trains a head, which takes seconds and keeps no checkpoint: POST /train again.`);
  }
  if (job.status !== 'failed') {
    const why = job.status === 'succeeded' ? `it succeeded (model '${job.modelId}')` : `it is ${job.status}`;
    throw new JobNotResumableError(`Job '${job.jobId}' cannot be resumed: ${why}. Only a failed fine-tuning job resumes.`);
  }
  if (!launcher) throw new FinetuneUnavailableError();
  const { worker: _shownOnly, ...record } = job;
  const queued: FinetuneJobRecord = { ...record, status: 'queued', error: undefined, finishedAt: null };
  await writeJob(store, queued);
  try {
    await launcher.launch(job.jobId);
  } catch (error) {
    // Back to the record it had: the job is still resumable once the launcher works again.
    await writeJob(store, stored);
    throw error;
  }
  return queued;
}
