import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../src/util/json.js';
import { HttpError } from './errors.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** What a route handler sees of a request. */
export interface ApiRequest {
  method: string;
  path: string;
  /** Values of the `{name}` segments of the matched route, URL-decoded. */
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** The JSON body; HttpError 400 when it is not JSON or nests deeper than MAX_JSON_DEPTH. Undefined without a body. */
  json(): unknown;
  event: APIGatewayProxyEvent;
}

export interface ApiResponse {
  statusCode: number;
  /**
   * JSON, or a Buffer sent as it is (base64 with `isBase64Encoded`, e.g. a JPEG or a safetensors file) with its
   * content-type in `headers`. API Gateway passes bytes through only for a `binaryMediaTypes` type the client
   * accepts (infra/api.ts BINARY_MEDIA_TYPES).
   */
  body?: unknown;
  headers?: Record<string, string>;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/** Lower-cased header names: API Gateway passes them as the client sent them. */
function lowerCaseKeys(headers: Record<string, string | undefined> | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}

/**
 * The routes take API Gateway REST proxy events (payload format 1.0: `httpMethod` and `path`). Anything else a
 * caller invokes the function with directly (a test event from the console, an S3 or SQS event, an HTTP API
 * payload 2.0 event) is the caller's mistake: 400 NotAnApiEvent saying what was expected, not a 500 from deep inside.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
 */
export function checkProxyEvent(event: unknown): asserts event is APIGatewayProxyEvent {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  if (typeof e.httpMethod === 'string' && e.httpMethod !== '' && typeof e.path === 'string') return;
  const version2 = e.version === '2.0' || (typeof e.requestContext === 'object' && e.requestContext !== null && 'http' in e.requestContext);
  const got = version2
    ? 'an HTTP API payload 2.0 event'
    : typeof event !== 'object' || event === null
      ? `${event === null ? 'null' : typeof event}`
      : `an event without ${typeof e.httpMethod === 'string' && e.httpMethod !== '' ? 'a string path' : 'httpMethod'} (keys: ${Object.keys(e).slice(0, 8).join(', ') || 'none'})`;
  throw new HttpError('NotAnApiEvent', `This function answers API Gateway REST proxy events (payload 1.0, with httpMethod and path); it got ${got}.`);
}

export function bodyText(event: APIGatewayProxyEvent): string | undefined {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

export function toRequest(event: APIGatewayProxyEvent, params: Record<string, string>): ApiRequest {
  let parsed: { value: unknown } | undefined;
  return {
    method: event.httpMethod.toUpperCase(),
    path: event.path,
    params,
    query: Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
    headers: lowerCaseKeys(event.headers),
    json() {
      if (parsed) return parsed.value;
      const text = bodyText(event);
      let value: unknown;
      try {
        value = text === undefined ? undefined : (JSON.parse(text) as unknown);
      } catch (error) {
        throw new HttpError('InvalidJson', `The request body is not valid JSON (${(error as Error).message}).`);
      }
      if (exceedsJsonDepth(value)) {
        throw new HttpError('InvalidJson', `The request body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; no request of this API needs more.`);
      }
      parsed = { value };
      return value;
    },
    event,
  };
}

export function toResult(response: ApiResponse): APIGatewayProxyResult {
  if (Buffer.isBuffer(response.body)) {
    return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body.toString('base64'), isBase64Encoded: true };
  }
  const headers = { ...JSON_HEADERS, ...response.headers };
  return { statusCode: response.statusCode, headers, body: response.body === undefined ? '' : JSON.stringify(response.body) };
}

/** A header by name, whatever its case (REST API events keep the client's spelling). */
export function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}
