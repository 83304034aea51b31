import type { APIGatewayProxyEvent } from 'aws-lambda';
import { listValues } from '../../src/errors.js';
import { HttpError } from './errors.js';
import { HTTP_METHODS, type ApiRequest, type ApiResponse, type HttpMethod } from './http.js';

export type RouteHandler = (request: ApiRequest) => Promise<ApiResponse>;

/** One endpoint: `path` is an API Gateway resource template, e.g. '/models/{id}'. */
export interface Route {
  method: HttpMethod;
  path: string;
  handler: RouteHandler;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

const SEGMENT_PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError('InvalidPath', `The path segment '${segment}' is not valid URL encoding.`);
  }
}

/** Params when `path` fits the template, else undefined. */
function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const want = segments(template);
  const got = segments(path);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const param = SEGMENT_PARAM.exec(want[i]!);
    if (param) params[param[1]!] = decode(got[i]!);
    else if (want[i] !== got[i]) return undefined;
  }
  return params;
}

/**
 * The one router of the HTTP API: the API function, the classify function and `headstart dev` all serve
 * `Route[]` through it (createHttpHandler in http-handler.ts). To add routes: write a `(deps) => Route[]` module
 * under routes/ whose handlers take an ApiRequest and return an ApiResponse (JSON `body`, or a Buffer `body` of bytes),
 * throw typed errors (their codes' statuses are in errors.ts), and mount it with one entry in `apiRoutes`
 * (handler.ts); for the cloud, add its lines to infra/api.ts API_ROUTES.
 *
 * Matching over API Gateway proxy events: routes are resource templates; an event is matched by
 * its `resource` when API Gateway sent one of ours (params from `pathParameters`), else by its `path`
 * (the local HTTP server, a catch-all proxy resource). Unknown path: 404 listing the routes; known path,
 * other method: 405 with `Allow`.
 */
export class Router {
  private readonly routes: Route[];

  constructor(routes: readonly Route[]) {
    const seen = new Set<string>();
    for (const route of routes) {
      if (!HTTP_METHODS.includes(route.method)) throw new RangeError(`Route ${route.path}: method must be ${listValues(HTTP_METHODS)}, got '${route.method}'`);
      if (!route.path.startsWith('/')) throw new RangeError(`Route path must start with '/', got '${route.path}'`);
      const id = `${route.method} ${route.path}`;
      if (seen.has(id)) throw new RangeError(`Route ${id} is defined twice`);
      seen.add(id);
    }
    this.routes = [...routes];
  }

  /** 'POST /train', … in definition order. */
  describe(): string[] {
    return this.routes.map((r) => `${r.method} ${r.path}`);
  }

  match(event: Pick<APIGatewayProxyEvent, 'httpMethod' | 'path' | 'resource' | 'pathParameters'>): RouteMatch {
    const method = event.httpMethod.toUpperCase();
    const byResource = this.routes.filter((r) => r.path === event.resource);
    const candidates = byResource.length
      ? byResource.map((route) => ({ route, params: decodedParams(event.pathParameters) }))
      : this.routes.flatMap((route) => {
          const params = matchTemplate(route.path, event.path);
          return params ? [{ route, params }] : [];
        });
    const hit = candidates.find((c) => c.route.method === method);
    if (hit) return hit;
    if (candidates.length) {
      const allowed = candidates.map((c) => c.route.method);
      throw new HttpError('MethodNotAllowed', `Method ${method} is not allowed on ${candidates[0]!.route.path}: use ${listValues(allowed)}.`, {
        allow: allowed.join(', '),
      });
    }
    throw new HttpError('RouteNotFound', `No route for ${method} ${event.path}: the API has ${listValues(this.describe())}.`);
  }
}

function decodedParams(params: Record<string, string | undefined> | null): Record<string, string> {
  return Object.fromEntries(Object.entries(params ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
}
