import { describeValue, InvalidArgumentError, unknownFieldsMessage } from '../../../src/errors.js';
import { datasetPrefix, validateDatasetName } from '../../../src/layout.js';
import { UnknownDatasetError } from '../../../src/jobs/errors.js';
import { listDatasets } from '../../../src/jobs/preflight.js';
import type { ApiDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';

/** AWS Batch array jobs hold at most 10,000 children; far fewer keep the GPU fleet's start-up cost sane. */
export const MAX_SHARDS = 1000;

function parseBackfillRequest(body: unknown): { dataset: string; shards: number } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError('POST /backfill expects a JSON object: { "dataset": "<name>", "shards"?: 1…1000 }.');
  }
  const { dataset, shards = 1, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new InvalidArgumentError(unknownFieldsMessage(unknown, ['dataset', 'shards']));
  if (typeof dataset !== 'string') throw new InvalidArgumentError("'dataset' is required: the name under images/<dataset>/.");
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new InvalidArgumentError(`'shards' must be an integer from 1 to ${MAX_SHARDS}, got ${describeValue(shards)}.`);
  }
  return { dataset: validateDatasetName(dataset), shards };
}

/**
 * POST /backfill { dataset, shards? }: extracts every image of the dataset that lacks features, in bulk —
 * an AWS Batch (array) job on GPUs in the cloud, the local stack's own pipeline on one machine.
 * 409 when the deployment has no GPU batch path (extractionMode 'lambda').
 */
export function backfillRoutes(deps: ApiDeps): Route[] {
  async function backfill(request: ApiRequest): Promise<ApiResponse> {
    const { dataset, shards } = parseBackfillRequest(request.json());
    if (!deps.backfill) {
      throw new HttpError(
        'BackfillUnavailable',
        "This deployment has no GPU batch path: deploy with extractionMode 'batch' or 'both' (docs/deploy.md). In 'lambda' mode images are extracted as they are uploaded.",
      );
    }
    const prefix = datasetPrefix(dataset);
    const page = await deps.store.list(prefix, { maxKeys: 1 });
    if (page.objects.length === 0) throw new UnknownDatasetError(dataset, await listDatasets(deps.store));
    const source = `s3://${deps.store.bucket}/${prefix}`;
    const submission = await deps.backfill.submit({ dataset, source, shards });
    return { statusCode: 202, body: { ...submission, dataset, source, shards } };
  }
  return [{ method: 'POST', path: '/backfill', handler: backfill }];
}
