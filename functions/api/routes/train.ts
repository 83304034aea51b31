// Direct module imports, not the jobs or finetune index: the runners behind them load models, which the API never does.
import { describeValue, listValues } from '../../../src/errors.js';
import { datasetPrefix } from '../../../src/layout.js';
import { checkHeadFitsBase } from '../../../src/finetune/head-check.js';
import { assertModelIdFree } from '../../../src/finetune/read.js';
import { parseFinetuneBody } from '../../../src/finetune/request.js';
import { checkBaseModel } from '../../../src/jobs/base.js';
import { FinetuneUnavailableError, UnknownDatasetError } from '../../../src/jobs/errors.js';
import { listDatasets } from '../../../src/jobs/preflight.js';
import { createFinetuneJob, createJob, failJob } from '../../../src/jobs/records.js';
import { InvalidTrainRequestError, parseTrainRequest } from '../../../src/jobs/request.js';
import type { StoredJob } from '../../../src/jobs/types.js';
import { getHead } from '../../../src/registry/read.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { getModelSpec } from '../../../src/zoo/index.js';
import type { ApiDeps } from '../deps.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { TrainLauncher } from '../launchers.js';
import type { Route } from '../router.js';

/** 'head' (the default): a head on cached features, in seconds. 'finetune': base and head on images (issue 8). */
export const TRAIN_MODES = ['head', 'finetune'] as const;

async function requireDataset(store: ObjectStore, dataset: string): Promise<void> {
  const page = await store.list(datasetPrefix(dataset), { maxKeys: 1 });
  if (page.objects.length === 0) throw new UnknownDatasetError(dataset, await listDatasets(store));
}

function modeOf(body: unknown): { mode: (typeof TRAIN_MODES)[number]; fields: Record<string, unknown> } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidTrainRequestError(`The request body must be a JSON object like {"dataset": "flowers", "head": {"epochs": 20}}.`);
  }
  const { mode = 'head', ...fields } = body as Record<string, unknown>;
  if (!(TRAIN_MODES as readonly unknown[]).includes(mode)) throw new InvalidTrainRequestError(`Unknown mode ${describeValue(mode)}: expected ${listValues(TRAIN_MODES)}.`);
  return { mode: mode as (typeof TRAIN_MODES)[number], fields };
}

/** Hands the queued job to its launcher; a job that cannot start is recorded as failed before the 5xx. */
export async function launch(store: ObjectStore, launcher: TrainLauncher, job: StoredJob): Promise<ApiResponse> {
  try {
    await launcher.launch(job.jobId);
  } catch (error) {
    await failJob(store, job.jobId, error);
    throw error;
  }
  const location = `/jobs/${job.jobId}`;
  return { statusCode: 202, headers: { location }, body: { jobId: job.jobId, kind: job.kind, status: job.status, location } };
}

/**
 * POST /train: validates the body, checks what can be checked cheaply here (base model, datasets, the head
 * to start from), records the job as queued, hands it to its launcher, and answers 202 with the job id to poll.
 * `"mode": "finetune"` fine-tunes the base with its head on the dataset's images (the GPU batch job in the cloud).
 */
export function trainRoutes(deps: ApiDeps): Route[] {
  async function trainHead(fields: Record<string, unknown>): Promise<ApiResponse> {
    const body = parseTrainRequest(fields);
    checkBaseModel(body, await deps.namespace());
    await requireDataset(deps.store, body.dataset);
    if (body.validationDataset) await requireDataset(deps.store, body.validationDataset);
    return launch(deps.store, deps.launcher, await createJob(deps.store, body));
  }

  async function finetune(fields: Record<string, unknown>): Promise<ApiResponse> {
    if (!deps.finetuneLauncher) throw new FinetuneUnavailableError();
    const { request, resolved } = parseFinetuneBody(fields, (await deps.namespace()).model);
    await requireDataset(deps.store, resolved.dataset);
    if (resolved.fromHead) checkHeadFitsBase(resolved.fromHead, await getHead(deps.store, resolved.fromHead), getModelSpec(resolved.model));
    if (resolved.modelId) await assertModelIdFree(deps.store, resolved.modelId);
    const job = await createFinetuneJob(deps.store, request, resolved.epochs);
    return launch(deps.store, deps.finetuneLauncher, job);
  }

  async function train(request: ApiRequest): Promise<ApiResponse> {
    const { mode, fields } = modeOf(request.json());
    return mode === 'finetune' ? finetune(fields) : trainHead(fields);
  }
  return [{ method: 'POST', path: '/train', handler: train }];
}
