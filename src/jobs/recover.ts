import type { ObjectStore } from '../store/index.js';
import { FinetuneUnavailableError, IssuesUnavailableError, PredictUnavailableError, TrainerRestartedError } from './errors.js';
import { failJob, JOBS_PREFIX, readJob, writeJob } from './records.js';
import type { JobLauncher } from './transitions.js';
import type { StoredJob } from './types.js';
import { logger } from '../logger.js';

/** `jobs/<jobId>.json` (not the `jobs/<jobId>/…` objects beside it: stop requests, checkpoints). */
const JOB_RECORD = /^jobs\/(job-[^/]+)\.json$/;

export interface RecoveredJobs {
  /** Queued jobs handed to their launcher again. */
  relaunched: string[];
  /**
   * Running fine-tuning jobs queued again: they continue from their last complete epoch (the checkpoint).
   * Running prediction jobs too: they start over, and what they extracted before is cached, so only the rest is work.
   * Running dataset issues jobs too: they compute again from the cached features.
   */
  resumed: string[];
  /** Running head training jobs failed with TrainerLost (no checkpoint to continue from). */
  failed: string[];
  /**
   * Finished prediction jobs whose webhook delivery is not in their record: the server died after the job's final
   * record and before the delivery's (src/predict resendWebhooks sends them again). The caller announces them.
   */
  unannounced: string[];
}

/** A finished batch prediction job that asked for a webhook and whose record keeps no delivery of it. */
function unannounced(job: StoredJob): boolean {
  return job.kind === 'predict' && (job.status === 'succeeded' || job.status === 'failed') && job.request.webhook !== undefined && job.webhook === undefined;
}

/**
 * What a restarted server does with the jobs its previous run left unfinished, whose in-memory queues are
 * gone: each `queued` job is launched again, each `running` fine-tuning job goes back to queued and is
 * launched (it resumes from its checkpoint), each `running` prediction job too (it runs again, the features it
 * extracted already cached), each `running` dataset issues job too (it computes again from the cached
 * features), each `running` head training job fails at once with
 * TrainerLost. Jobs run in creation order (job ids sort by time). Nothing is left `running` or `queued`
 * without a runner: a launch that fails records the job as failed. Finished prediction jobs whose webhook was never
 * recorded as tried are listed in `unannounced`, for the caller to deliver (recoverJobs sends nothing itself).
 */
export async function recoverJobs(store: ObjectStore, launcherFor: (kind: StoredJob['kind']) => JobLauncher | undefined): Promise<RecoveredJobs> {
  const ids: string[] = [];
  for await (const info of store.listAll(JOBS_PREFIX)) {
    const id = JOB_RECORD.exec(info.key)?.[1];
    if (id) ids.push(id);
  }
  const recovered: RecoveredJobs = { relaunched: [], resumed: [], failed: [], unannounced: [] };
  for (const jobId of ids.sort()) {
    const job = await readJob(store, jobId);
    if (unannounced(job)) recovered.unannounced.push(jobId);
    if (job.status !== 'queued' && job.status !== 'running') continue;
    if (job.status === 'running' && job.kind === 'train') {
      const at = job.progress.epoch ? `after epoch ${job.progress.epoch} of ${job.progress.epochs}` : 'before its first epoch ended';
      await failJob(store, jobId, new TrainerRestartedError(jobId, at), ['running']);
      recovered.failed.push(jobId);
      continue;
    }
    const launcher = launcherFor(job.kind);
    try {
      if (!launcher) throw job.kind === 'predict' ? new PredictUnavailableError() : job.kind === 'issues' ? new IssuesUnavailableError() : new FinetuneUnavailableError();
      if (job.status === 'running') await writeJob(store, { ...job, status: 'queued' });
      await launcher.launch(jobId);
      (job.status === 'running' ? recovered.resumed : recovered.relaunched).push(jobId);
    } catch (error) {
      logger.warn('could not restart a job after a restart', { jobId, error });
      await failJob(store, jobId, error, ['queued', 'running']);
      recovered.failed.push(jobId);
    }
  }
  return recovered;
}
