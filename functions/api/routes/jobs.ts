import { presentJob, readJob, writeJob } from '../../../src/jobs/records.js';
import type { StoredJob, WorkerStatus } from '../../../src/jobs/types.js';
import type { ApiDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';
import { finetuneUnavailable } from './train.js';

/**
 * GET /jobs/{id}: the job record (status, progress after every epoch, history, headId/modelId or error); a
 * trainer that died shows as failed. POST /jobs/{id}/resume: a failed fine-tuning job runs again from its
 * last complete epoch (its checkpoint), under the same id.
 */
export function jobRoutes(deps: ApiDeps): Route[] {
  /**
   * The job as GET /jobs/{id} shows it. A fine-tuning job still queued also shows its runner's view (`worker`):
   * AWS Batch says RUNNABLE while no GPU is free, and FAILED when the container never started (an image
   * that cannot be pulled, attempts used up); then the job is shown failed ('WorkerFailed') and can be resumed.
   */
  async function present(stored: StoredJob): Promise<StoredJob> {
    const { jobId } = stored;
    const job = presentJob(stored);
    if (job.kind !== 'finetune' || job.status !== 'queued' || !deps.finetuneLauncher?.describe) return job;
    let worker: WorkerStatus | undefined;
    try {
      worker = await deps.finetuneLauncher.describe(jobId);
    } catch (error) {
      // The record is still the truth; the runner's view is extra.
      console.error(JSON.stringify({ level: 'warn', message: 'could not read the worker status', jobId, error: String(error) }));
    }
    if (!worker) return job;
    if (worker.status !== 'FAILED') return { ...job, worker };
    const reason = worker.statusReason ? `: ${worker.statusReason}` : '';
    return {
      ...job,
      worker,
      status: 'failed',
      error: { code: 'WorkerFailed', message: `The fine-tuning worker (${worker.runner} job ${worker.id ?? '?'}) failed before the job started${reason}. POST /jobs/${jobId}/resume submits it again.` },
    };
  }

  async function resume(request: ApiRequest): Promise<ApiResponse> {
    const stored = await readJob(deps.store, request.params.id!);
    const job = await present(stored);
    if (job.kind !== 'finetune') {
      throw new HttpError(409, 'NotResumable', `Job '${job.jobId}' trains a head, which takes seconds and keeps no checkpoint: POST /train again.`);
    }
    if (job.status !== 'failed') {
      const why = job.status === 'succeeded' ? `it succeeded (model '${job.modelId}')` : `it is ${job.status}`;
      throw new HttpError(409, 'NotResumable', `Job '${job.jobId}' cannot be resumed: ${why}. Only a failed fine-tuning job resumes.`);
    }
    if (!deps.finetuneLauncher) throw finetuneUnavailable();
    const { worker: _shownOnly, ...record } = job;
    const queued: StoredJob = { ...record, status: 'queued', error: undefined, finishedAt: null };
    await writeJob(deps.store, queued);
    try {
      await deps.finetuneLauncher.launch(job.jobId);
    } catch (error) {
      // Back to the record it had: the job is still resumable once the launcher works again.
      await writeJob(deps.store, stored);
      throw error;
    }
    const location = `/jobs/${job.jobId}`;
    return { statusCode: 202, headers: { location }, body: { jobId: job.jobId, kind: job.kind, status: 'queued', location, resumedAfterEpoch: job.progress.epoch } };
  }
  return [
    { method: 'GET', path: '/jobs/{id}', handler: async (request) => ({ statusCode: 200, body: await present(await readJob(deps.store, request.params.id!)) }) },
    { method: 'POST', path: '/jobs/{id}/resume', handler: resume },
  ];
}
