import { presentJob, readJob } from '../../../src/jobs/records.js';
import type { ApiDeps } from '../deps.js';
import type { Route } from '../router.js';

/** GET /jobs/{id}: the job record (status, progress after every epoch, history, headId or error); a trainer that died shows as failed. */
export function jobRoutes(deps: ApiDeps): Route[] {
  return [{ method: 'GET', path: '/jobs/{id}', handler: async (request) => ({ statusCode: 200, body: presentJob(await readJob(deps.store, request.params.id!)) }) }];
}
