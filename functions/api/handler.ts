import type { ApiDeps } from './deps.js';
import { createHttpHandler } from './http-handler.js';
import type { Route } from './router.js';
import { backfillRoutes } from './routes/backfill.js';
import { datasetRoutes } from './routes/datasets.js';
import { defaultsRoutes } from './routes/defaults.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { trainRoutes } from './routes/train.js';
import { uploadRoutes } from './routes/uploads.js';
import { issuesRoutes } from './routes/issues.js';
import { reviewRoutes } from './routes/reviews.js';
import { similarRoutes } from './routes/similar.js';
import { predictRoutes } from './routes/predict.js';
import { predictionRoutes } from './routes/predictions.js';

/**
 * The routes the API function serves (infra/api.ts API_ROUTES with target 'api'). A new group of routes is a
 * `(deps) => Route[]` module under routes/ and one entry here (and its lines in API_ROUTES for the cloud).
 */
export function apiRoutes(deps: ApiDeps): Route[] {
  return [...trainRoutes(deps), ...defaultsRoutes(deps), ...jobRoutes(deps), ...modelRoutes(deps), ...datasetRoutes(deps), ...uploadRoutes(deps), ...backfillRoutes(deps), ...issuesRoutes(deps), ...similarRoutes(deps), ...reviewRoutes(deps), ...predictRoutes(deps), ...predictionRoutes(deps)];
}

/**
 * The REST API function: JSON in and out over the API's routes (createHttpHandler). `resolveDeps` is called
 * per request: pass a memoised factory (`once` from functions/shared) so clients and launchers live as long
 * as the process.
 */
export function createApiHandler(resolveDeps: ApiDeps | (() => Promise<ApiDeps>)) {
  return createHttpHandler(async () => apiRoutes(typeof resolveDeps === 'function' ? await resolveDeps() : resolveDeps));
}
