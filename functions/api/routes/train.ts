// Direct module imports, not the jobs index: the runner behind it needs TF.js, which the API bundle must not load.
import { checkBaseModel } from '../../../src/jobs/base.js';
import { UnknownDatasetError } from '../../../src/jobs/errors.js';
import { listDatasets } from '../../../src/jobs/preflight.js';
import { createJob, failJob } from '../../../src/jobs/records.js';
import { parseTrainRequest } from '../../../src/jobs/request.js';
import { IMAGES_PREFIX } from '../../../src/features/keys.js';
import type { ObjectStore } from '../../../src/store/index.js';
import type { ApiDeps } from '../deps.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';

async function requireDataset(store: ObjectStore, dataset: string): Promise<void> {
  const page = await store.list(`${IMAGES_PREFIX}${dataset}/`, { maxKeys: 1 });
  if (page.objects.length === 0) throw new UnknownDatasetError(dataset, await listDatasets(store));
}

/**
 * POST /train: validates the body, checks what can be checked cheaply here (base model, datasets exist),
 * records the job as queued, hands it to the launcher, and answers 202 with the job id to poll.
 */
export function trainRoutes(deps: ApiDeps): Route[] {
  async function train(request: ApiRequest): Promise<ApiResponse> {
    const body = parseTrainRequest(request.json());
    checkBaseModel(body, await deps.namespace());
    await requireDataset(deps.store, body.dataset);
    if (body.validationDataset) await requireDataset(deps.store, body.validationDataset);
    const job = await createJob(deps.store, body);
    try {
      await deps.launcher.launch(job.jobId);
    } catch (error) {
      // The job will never run: say so in its record too, then answer 5xx.
      await failJob(deps.store, job.jobId, error);
      throw error;
    }
    const location = `/jobs/${job.jobId}`;
    return { statusCode: 202, headers: { location }, body: { jobId: job.jobId, status: job.status, location } };
  }
  return [{ method: 'POST', path: '/train', handler: train }];
}
