import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { HeadstartError } from '../../src/errors.js';
import type { ApiDeps } from './deps.js';
import { errorResult } from './errors.js';
import { toRequest, toResult } from './http.js';
import { Router, type Route } from './router.js';
import { datasetRoutes } from './routes/datasets.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { trainRoutes } from './routes/train.js';
import { uploadRoutes } from './routes/uploads.js';
import { backfillRoutes } from './routes/backfill.js';
import { logger } from '../../src/logger.js';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { defaultsRoutes } from './routes/defaults.js';
import { issuesRoutes } from './routes/issues.js';
import { reviewRoutes } from './routes/reviews.js';
import { similarRoutes } from './routes/similar.js';

/** The routes this handler serves itself (infra/api.ts API_ROUTES with target 'api'). */
export function apiRoutes(deps: ApiDeps): Route[] {
  return [...trainRoutes(deps), ...defaultsRoutes(deps), ...jobRoutes(deps), ...modelRoutes(deps), ...datasetRoutes(deps), ...uploadRoutes(deps), ...backfillRoutes(deps), ...issuesRoutes(deps), ...similarRoutes(deps), ...reviewRoutes(deps), ...(deps.extraRoutes ?? [])];
}

/** Dependencies that cannot be built are a broken deployment (a missing variable, no weights index): 500, not 400. */
async function depsOf(resolveDeps: ApiDeps | (() => Promise<ApiDeps>)): Promise<ApiDeps> {
  if (typeof resolveDeps !== 'function') return resolveDeps;
  try {
    return await resolveDeps();
  } catch (error) {
    throw new HeadstartError('ServiceMisconfigured', `The API cannot start: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The REST API function: one proxy handler, a tiny router, JSON in and out. Every error becomes
 * `{ error: { code, message } }` with a 4xx for the caller's mistakes and a 5xx for ours (logged with
 * the stack, never answered with it). `resolveDeps` is called per request: pass
 * a memoised factory (`once` from functions/shared) so clients and launchers live as long as the process.
 */
export function createApiHandler(resolveDeps: ApiDeps | (() => Promise<ApiDeps>)) {
  return middy(async (event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> => {
    const requestId = context?.awsRequestId ?? event.requestContext?.requestId ?? 'local';
    try {
      // A router per request is a few closures; the deps behind it are the process's (memoised by the caller).
      const deps = await depsOf(resolveDeps);
      const { route, params } = new Router(apiRoutes(deps)).match(event);
      return toResult(await route.handler(toRequest(event, params)));
    } catch (error) {
      const result = errorResult(error, requestId);
      if (result.statusCode >= 500) {
        logger.error('request failed', { requestId, route: `${event.httpMethod} ${event.path}`, error });
      }
      return toResult(result);
    }
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}
