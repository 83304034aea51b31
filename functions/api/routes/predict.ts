// Direct module imports, not the jobs or predict index: the runner behind them loads heads, which the API never does.
import { HeadstartError } from '../../../src/errors.js';
import { namespaceId } from '../../../src/features/namespace.js';
import { finetunedPointerKey } from '../../../src/finetune/keys.js';
import { PredictUnavailableError, UnknownDatasetError } from '../../../src/jobs/errors.js';
import { listDatasets } from '../../../src/jobs/preflight.js';
import { parsePredictRequest, predictPrefix } from '../../../src/jobs/predict-request.js';
import { createPredictJob } from '../../../src/jobs/records.js';
import { ModelPredictUnavailableError, PredictHeadBaseError } from '../../../src/predict/errors.js';
import { getHead } from '../../../src/registry/read.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { MODEL_IDS } from '../../../src/zoo/types.js';
import { ModelNotFoundError } from '../../classify/errors.js';
import type { ApiDeps } from '../deps.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';
import { launch } from './train.js';

/** Nothing under the prefix a POST /predict names. */
export class NoImagesError extends HeadstartError {
  constructor(prefix: string) {
    super('NoImages', `No images under '${prefix}': upload them first (headstart upload, POST /uploads), or check the prefix.`);
  }
}

async function requireImages(store: ObjectStore, prefix: string, dataset: string | undefined): Promise<void> {
  const page = await store.list(prefix, { maxKeys: 1 });
  if (page.objects.length > 0) return;
  throw dataset !== undefined ? new UnknownDatasetError(dataset, await listDatasets(store)) : new NoImagesError(prefix);
}

/**
 * POST /predict: validates the body, checks the head (published, on the service's features) or the model
 * (a zoo id or a published fine-tuned model) and that the prefix has images, records the job as queued,
 * hands it to its launcher (a head's: predictLauncher; a model's: modelPredictLauncher) and answers 202 with
 * the job to poll (GET /jobs/{id}).
 */
export function predictRoutes(deps: ApiDeps): Route[] {
  async function predict(request: ApiRequest): Promise<ApiResponse> {
    const body = parsePredictRequest(request.json());
    if (!deps.predictLauncher) throw new PredictUnavailableError();
    if (body.head !== undefined) {
      const head = await getHead(deps.store, body.head);
      const service = await deps.namespace();
      if (head.base.namespace !== namespaceId(service) || (head.base.pooling ?? null) !== (service.pooling ?? null)) {
        throw new PredictHeadBaseError(body.head, head.base, service);
      }
    } else if (!deps.modelPredictLauncher) {
      throw new ModelPredictUnavailableError(body.model!);
    } else if (!(MODEL_IDS as readonly string[]).includes(body.model!) && !(await deps.store.exists(finetunedPointerKey(body.model!)))) {
      throw new ModelNotFoundError(body.model!, MODEL_IDS);
    }
    await requireImages(deps.store, predictPrefix(body), body.dataset);
    // A head runs on cached features (the train function); a model on every image (the predict function).
    const launcher = body.model !== undefined ? deps.modelPredictLauncher! : deps.predictLauncher;
    return launch(deps.store, launcher, await createPredictJob(deps.store, body));
  }
  return [{ method: 'POST', path: '/predict', handler: predict }];
}
