import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export interface ApiEventOptions {
  /** A JSON-serialisable body, or a raw string sent as is. */
  body?: unknown;
  /** The API Gateway resource template, e.g. '/jobs/{id}'; with it, `pathParameters` are filled from the path. */
  resource?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  base64?: boolean;
}

function pathParameters(resource: string, path: string): Record<string, string> | null {
  const names = resource.split('/');
  const values = path.split('/');
  const params: Record<string, string> = {};
  names.forEach((name, i) => {
    const m = /^\{(.+)\}$/.exec(name);
    if (m) params[m[1]!] = decodeURIComponent(values[i] ?? '');
  });
  return Object.keys(params).length ? params : null;
}

/**
 * An API Gateway REST proxy event (payload 1.0) as Lambda receives it. Without `resource` it looks like
 * the local server's events (resource = path, no path parameters), which the router matches by path.
 */
export function apiEvent(method: string, path: string, options: ApiEventOptions = {}): APIGatewayProxyEvent {
  const text = options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const resource = options.resource ?? path;
  return {
    httpMethod: method,
    path,
    resource,
    pathParameters: options.resource ? pathParameters(options.resource, path) : null,
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    headers: { 'Content-Type': 'application/json', ...options.headers },
    multiValueHeaders: {},
    body: text === null ? null : options.base64 ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: options.base64 ?? false,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'test',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {} as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/v1${path}`,
      stage: 'v1',
      requestId: 'test-request',
      requestTimeEpoch: Date.now(),
      resourceId: 'r1',
      resourcePath: resource,
    },
  };
}

/** A Lambda context with `remainingMs` left on the clock. */
export function lambdaContext(remainingMs = 900_000, name = 'headstart-test'): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    memoryLimitInMB: '2048',
    awsRequestId: 'test-invocation',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The status, headers and parsed JSON body of a proxy result. */
export function parseResult<T = any>(result: APIGatewayProxyResult): { status: number; headers: Record<string, unknown>; body: T } {
  return { status: result.statusCode, headers: result.headers ?? {}, body: result.body ? (JSON.parse(result.body) as T) : (undefined as T) };
}
