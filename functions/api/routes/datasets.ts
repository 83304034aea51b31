import { HeadstartError } from '../../../src/errors.js';
import { buildDatasetIndex } from '../../../src/features/dataset.js';
import { validateDatasetName } from '../../../src/features/keys.js';
import { jobErrorOf } from '../../../src/jobs/job-error.js';
import { checkTrainingDataset } from '../../../src/jobs/preflight.js';
import type { ApiDeps } from '../deps.js';
import type { Route } from '../router.js';

/** Failed images listed per response: enough to see a pattern, bounded for a huge dataset. */
const MAX_FAILURES = 50;

/**
 * GET /datasets/{name}: per label, images and how many are extracted, failed and pending under the
 * service's namespace, with totals; the failed images with their reasons; and whether POST /train
 * would find the dataset trainable now (else the reason, as the job would report it).
 */
export function datasetRoutes(deps: ApiDeps): Route[] {
  async function dataset(name: string) {
    const index = await buildDatasetIndex(deps.store, await deps.namespace(), validateDatasetName(name));
    let training: { ready: boolean; error?: { code: string; message: string } } = { ready: true };
    try {
      await checkTrainingDataset(deps.store, index);
    } catch (error) {
      if (!(error instanceof HeadstartError)) throw error;
      if (error.code === 'UnknownDataset') throw error;
      training = { ready: false, error: jobErrorOf(error, '') };
    }
    const failed = index.images.filter((i) => i.status === 'failed');
    return {
      dataset: index.dataset,
      namespace: index.namespace,
      labels: index.labels,
      totals: index.totals,
      training,
      failures: failed.slice(0, MAX_FAILURES).map(({ key, label, code, reason }) => ({ key, label, code, reason })),
      failuresTruncated: failed.length > MAX_FAILURES,
    };
  }
  return [{ method: 'GET', path: '/datasets/{name}', handler: async (request) => ({ statusCode: 200, body: await dataset(request.params.name!) }) }];
}
