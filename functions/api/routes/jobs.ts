import { presentJob, readJob, writeJob } from '../../../src/jobs/records.js';
import type { StoredJob } from '../../../src/jobs/types.js';
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
  async function resume(request: ApiRequest): Promise<ApiResponse> {
    const job = presentJob(await readJob(deps.store, request.params.id!));
    if (job.kind !== 'finetune') {
      throw new HttpError(409, 'NotResumable', `Job '${job.jobId}' trains a head, which takes seconds and keeps no checkpoint: POST /train again.`);
    }
    if (job.status !== 'failed') {
      const why = job.status === 'succeeded' ? `it succeeded (model '${job.modelId}')` : `it is ${job.status}`;
      throw new HttpError(409, 'NotResumable', `Job '${job.jobId}' cannot be resumed: ${why}. Only a failed fine-tuning job resumes.`);
    }
    if (!deps.finetuneLauncher) throw finetuneUnavailable();
    const queued: StoredJob = { ...job, status: 'queued', error: undefined, finishedAt: null };
    await writeJob(deps.store, queued);
    try {
      await deps.finetuneLauncher.launch(job.jobId);
    } catch (error) {
      // Back to the failure it had: the job is still resumable once the launcher works again.
      await writeJob(deps.store, job);
      throw error;
    }
    const location = `/jobs/${job.jobId}`;
    return { statusCode: 202, headers: { location }, body: { jobId: job.jobId, kind: job.kind, status: 'queued', location, resumedAfterEpoch: job.progress.epoch } };
  }
  return [
    { method: 'GET', path: '/jobs/{id}', handler: async (request) => ({ statusCode: 200, body: presentJob(await readJob(deps.store, request.params.id!)) }) },
    { method: 'POST', path: '/jobs/{id}/resume', handler: resume },
  ];
}
