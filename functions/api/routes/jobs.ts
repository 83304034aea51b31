import { readJob } from '../../../src/jobs/records.js';
import { resumeJob, showJob } from '../../../src/jobs/transitions.js';
import type { ApiDeps } from '../deps.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';

/**
 * GET /jobs/{id}: the job record (status, progress after every epoch, history, headId/modelId or error); a
 * trainer that died shows as failed, a queued fine-tuning job its runner's view. POST /jobs/{id}/resume: a
 * failed fine-tuning job runs again from its last complete epoch (its checkpoint), under the same id.
 * The transitions are the jobs module's (src/jobs/transitions.ts).
 */
export function jobRoutes(deps: ApiDeps): Route[] {
  async function resume(request: ApiRequest): Promise<ApiResponse> {
    const job = await resumeJob(deps.store, request.params.id!, deps.finetuneLauncher);
    const location = `/jobs/${job.jobId}`;
    return { statusCode: 202, headers: { location }, body: { jobId: job.jobId, kind: job.kind, status: 'queued', location, resumedAfterEpoch: job.progress.epoch } };
  }
  return [
    {
      method: 'GET',
      path: '/jobs/{id}',
      handler: async (request) => ({ statusCode: 200, body: await showJob(await readJob(deps.store, request.params.id!), deps.finetuneLauncher) }),
    },
    { method: 'POST', path: '/jobs/{id}/resume', handler: resume },
  ];
}
