import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Content types API Gateway delivers base64-encoded (the stack's `binaryMediaTypes`). */
const BINARY_TYPES = [/^image\//, /^multipart\/form-data/, /^application\/octet-stream/];

export function isBinaryContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && BINARY_TYPES.some((re) => re.test(contentType));
}

/**
 * An HTTP request as API Gateway's REST proxy integration hands it to Lambda: single- and multi-value
 * headers and query strings, binary bodies base64 with `isBase64Encoded`, a request context with a request id.
 */
export function toProxyEvent(req: IncomingMessage, body: Buffer, stage = 'local'): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const binary = isBinaryContentType(req.headers['content-type']);
  const hasQuery = Object.keys(query).length > 0;
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: (req.method ?? 'GET').toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    body: body.length === 0 ? null : binary ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: binary && body.length > 0,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      httpMethod: (req.method ?? 'GET').toUpperCase(),
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? null, apiKey: (req.headers['x-api-key'] as string | undefined) ?? null } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/${stage}${url.pathname}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: url.pathname,
      stage,
    },
  };
}

/** Writes a proxy result back as HTTP, decoding base64 bodies as API Gateway does for binary media types. */
export function writeProxyResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | number | boolean | string[]> = { ...(result.headers ?? {}) };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body ?? '', 'utf8');
  res.writeHead(result.statusCode, { ...headers, 'content-length': body.length } as Record<string, string | number | string[]>);
  res.end(body);
}
