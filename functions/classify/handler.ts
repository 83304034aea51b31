import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorBody, jsonResponse } from './http.js';
import type { ClassifyRoute } from './routes.js';
import { logger } from '../../src/logger.js';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The classify function on its own: POST /classify and POST /features behind one API Gateway proxy
 * integration. The routes come resolved lazily, so a configuration error answers 500 instead of
 * failing the import; other paths answer 404, other methods 405 with `Allow`.
 */
export function createClassifyHandler(resolveRoutes: () => Promise<readonly ClassifyRoute[]>) {
  return middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    let routes: readonly ClassifyRoute[];
    try {
      routes = await resolveRoutes();
    } catch (error) {
      // Whatever the error says, a service that cannot start is our fault, not the caller's.
      logger.error('classify service unavailable', error as Error);
      return jsonResponse(500, errorBody(error));
    }
    const path = requestPath(event);
    if (!isClassifyPath(routes, path)) {
      return jsonResponse(404, { error: { code: 'NotFound', message: `No route for ${path}: this function serves ${routes.map((r) => `${r.method} ${r.path}`).join(', ')}.` } });
    }
    return dispatch(routes, path, event);
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/**
 * One proxy handler for a single server (`headstart dev`): POST /classify and POST /features go to the
 * classify routes, everything else to `next` (the API handler), as API Gateway sends them to two
 * functions in the cloud. The classify answers keep their binary bodies (safetensors), which the API
 * router's JSON responses cannot carry.
 */
export function withClassifyRoutes(routes: readonly ClassifyRoute[], next: ProxyHandler): ProxyHandler {
  return async (event, context) => {
    const path = requestPath(event);
    return isClassifyPath(routes, path) ? dispatch(routes, path, event) : next(event, context);
  };
}

function isClassifyPath(routes: readonly ClassifyRoute[], path: string): boolean {
  return routes.some((r) => r.path === path);
}

function dispatch(routes: readonly ClassifyRoute[], path: string, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const route = routes.find((r) => r.path === path && r.method === event.httpMethod.toUpperCase());
  if (!route) {
    return Promise.resolve(
      jsonResponse(405, { error: { code: 'MethodNotAllowed', message: `${event.httpMethod} is not allowed on ${path}: use POST.` } }, { Allow: 'POST' }),
    );
  }
  return route.handler(event);
}

/** The resource path ('/classify'); a proxy resource ('/{proxy+}') falls back to the request path. */
function requestPath(event: APIGatewayProxyEvent): string {
  const resource = event.resource && !event.resource.includes('{') ? event.resource : event.path;
  return (resource ?? '').replace(/\/+$/, '') || '/';
}
