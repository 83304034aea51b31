import { HeadstartError } from '../../../src/errors.js';
import { buildDatasetIndex, type IndexedImage } from '../../../src/features/dataset.js';
import { PREFIX, validateDatasetName } from '../../../src/layout.js';
import { jobErrorOf } from '../../../src/jobs/job-error.js';
import { checkTrainingDataset } from '../../../src/jobs/preflight.js';
import type { ApiDeps } from '../deps.js';
import type { Route } from '../router.js';

/** Failed images listed per response: enough to see a pattern, bounded for a huge dataset. */
const MAX_FAILURES = 50;
/** Images of one label listed per response (`?label=`): a page of thumbnails. */
const MAX_LABEL_IMAGES = 500;

/**
 * GET /datasets: the dataset names (folders under images/). GET /datasets/{name}: per label, images and how many are extracted, failed and pending under the
 * service's namespace, with totals; the failed images with their reasons; and whether POST /train
 * would find the dataset trainable now (else the reason, as the job would report it); after a restart of the
 * local stack, the `recovery` it is doing (images the last run left pending, extracted again). With `?label=<label>`,
 * also that label's images (key, status, failure) for a thumbnail grid.
 */
export function datasetRoutes(deps: ApiDeps): Route[] {
  async function datasetNames(): Promise<string[]> {
    const names: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await deps.store.list(PREFIX.images, { delimiter: '/', continuationToken });
      names.push(...page.commonPrefixes.map((p) => p.slice(PREFIX.images.length, -1)));
      continuationToken = page.nextToken;
    } while (continuationToken);
    return names;
  }

  async function dataset(name: string, label?: string) {
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
    const recovery = deps.recovery?.forDataset(index.dataset);
    // "Wait for pending extractions" then says what is extracting them.
    if (recovery?.state === 'extracting' && training.error) training.error = { ...training.error, message: `${training.error.message} ${recovery.message}` };
    return {
      dataset: index.dataset,
      namespace: index.namespace,
      labels: index.labels,
      totals: index.totals,
      training,
      ...(recovery ? { recovery } : {}),
      failures: failed.slice(0, MAX_FAILURES).map(({ key, label, code, reason }) => ({ key, label, code, reason })),
      failuresTruncated: failed.length > MAX_FAILURES,
      ...(label === undefined ? {} : labelImages(index.images.filter((i) => i.label === label))),
    };
  }

  function labelImages(images: IndexedImage[]) {
    return {
      images: images.slice(0, MAX_LABEL_IMAGES).map(({ key, status, code, reason }) => ({ key, status, ...(code ? { code, reason } : {}) })),
      imagesTruncated: images.length > MAX_LABEL_IMAGES,
    };
  }

  return [
    { method: 'GET', path: '/datasets', handler: async () => ({ statusCode: 200, body: { datasets: (await datasetNames()).map((name) => ({ name })) } }) },
    { method: 'GET', path: '/datasets/{name}', handler: async (request) => ({ statusCode: 200, body: await dataset(request.params.name!, request.query.label) }) },
  ];
}
