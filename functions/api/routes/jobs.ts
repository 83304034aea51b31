import { readJob } from '../../../src/jobs/records.js';
import { clearStop, requestStop } from '../../../src/jobs/stop.js';
import { resumeJob, showJob } from '../../../src/jobs/transitions.js';
import type { ApiDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';

/**
 * GET /jobs/{id}: the job record (status, progress after every epoch, history, headId/modelId or error); a
 * trainer that died shows as failed, a queued fine-tuning job its runner's view. POST /jobs/{id}/resume: a
 * failed fine-tuning job runs again from its last complete epoch (its checkpoint), under the same id.
 * The transitions are the jobs module's (src/jobs/transitions.ts). POST /jobs/{id}/stop asks a queued or
 * running job to stop (src/jobs/stop.ts): its trainer sees the request within a second or so, stops between
 * batches and records the job failed with code 'JobStopped' (a fine-tuning job keeps its checkpoint and resumes).
 */
export function jobRoutes(deps: ApiDeps): Route[] {
  async function resume(request: ApiRequest): Promise<ApiResponse> {
    // A stop request of the failed run must not stop the resumed one.
    await clearStop(deps.store, (await readJob(deps.store, request.params.id!)).jobId);
    const job = await resumeJob(deps.store, request.params.id!, deps.finetuneLauncher);
    const location = `/jobs/${job.jobId}`;
    return { statusCode: 202, headers: { location }, body: { jobId: job.jobId, kind: job.kind, status: 'queued', location, resumedAfterEpoch: job.progress.epoch } };
  }
  async function stop(request: ApiRequest): Promise<ApiResponse> {
    const job = await showJob(await readJob(deps.store, request.params.id!), deps.finetuneLauncher);
    if (job.status === 'succeeded' || job.status === 'failed') {
      throw new HttpError('JobFinished', `Job '${job.jobId}' has already ${job.status}: there is nothing to stop.`);
    }
    await requestStop(deps.store, job.jobId);
    const location = `/jobs/${job.jobId}`;
    return { statusCode: 202, headers: { location }, body: { jobId: job.jobId, status: job.status, stopRequested: true, location } };
  }
  return [
    {
      method: 'GET',
      path: '/jobs/{id}',
      handler: async (request) => ({ statusCode: 200, body: await showJob(await readJob(deps.store, request.params.id!), deps.finetuneLauncher) }),
    },
    { method: 'POST', path: '/jobs/{id}/resume', handler: resume },
    { method: 'POST', path: '/jobs/{id}/stop', handler: stop },
  ];
}
