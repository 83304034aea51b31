import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { HeadstartError } from '../../src/errors.js';
import { logger } from '../../src/logger.js';
import { errorResponse } from './errors.js';
import { checkProxyEvent, toRequest, toResult } from './http.js';
import { Router, type Route } from './router.js';

/**
 * middy `onError`: the error a route threw becomes its answer, `{ error: { code, message } }` with the status
 * of its code (errors.ts), a 5xx logged with its stack (never answered with it). The same mapping for every
 * function that serves routes. (`@middy/http-error-handler` is not used: it answers an error's `message` as
 * the whole body with a status the error carries; ours are typed errors whose status lives with their code.)
 */
export function httpErrors(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context> {
  return {
    onError: async (request) => {
      const { event, context } = request;
      // The event may be anything a caller invoked the function with (see checkProxyEvent).
      const requestId = context?.awsRequestId ?? event?.requestContext?.requestId ?? 'local';
      request.response = toResult(errorResponse(request.error, { requestId, route: `${event?.httpMethod} ${event?.path}` }));
    },
  };
}

/** Routes that cannot be built are a broken deployment (a missing variable, no weights index): 500, not 400. */
async function routesOf(resolveRoutes: () => Promise<readonly Route[]>): Promise<readonly Route[]> {
  try {
    return await resolveRoutes();
  } catch (error) {
    throw new HeadstartError('ServiceMisconfigured', `The API cannot start: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A Lambda proxy handler over routes: the router picks the route (404 RouteNotFound, 405 with `allow`), the
 * route answers JSON or bytes, `httpErrors` answers what it throws, and every log line carries the request id.
 * `resolveRoutes` is called per request (pass a memoised factory, `once` from functions/shared, so clients and
 * models live as long as the process); a failure answers 500 ServiceMisconfigured and the next request tries again.
 * The API function, the classify function and `headstart dev` (both route sets on one server) are this handler.
 */
export function createHttpHandler(resolveRoutes: () => Promise<readonly Route[]>) {
  return middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    checkProxyEvent(event);
    // A router per request is a few closures; the routes behind it are the process's.
    const { route, params } = new Router(await routesOf(resolveRoutes)).match(event);
    return toResult(await route.handler(toRequest(event, params)));
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpErrors());
}
