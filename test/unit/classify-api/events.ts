import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import sharp from 'sharp';
import { expect } from 'vitest';
import { createHttpHandler } from '../../../functions/api/http-handler.js';
import type { Route } from '../../../functions/api/router.js';
import { lambdaContext } from '../../helpers/events.js';

/** An API Gateway REST proxy event, as the cloud and `headstart dev` deliver it. */
export function apiEvent(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: overrides.path ?? '/classify',
    path: '/classify',
    httpMethod: 'POST',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'test-request', path: '/test/classify', stage: 'test' } as APIGatewayProxyEvent['requestContext'],
    body: null,
    isBase64Encoded: false,
    ...overrides,
  };
}

export type Query = Record<string, string>;

/** Binary body: base64 with isBase64Encoded, as API Gateway delivers binary media types. */
export function imageEvent(bytes: Uint8Array, contentType = 'image/jpeg', query?: Query, path = '/classify'): APIGatewayProxyEvent {
  return apiEvent({
    path,
    headers: { 'Content-Type': contentType },
    body: Buffer.from(bytes).toString('base64'),
    isBase64Encoded: true,
    queryStringParameters: query ?? null,
  });
}

export function jsonEvent(body: unknown, query?: Query, path = '/classify', headers: Record<string, string> = {}): APIGatewayProxyEvent {
  return apiEvent({
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    queryStringParameters: query ?? null,
  });
}

export const BOUNDARY = '----headstart-test-boundary';

/** multipart/form-data with one file part per entry (`curl -F image=@a.jpg`), base64-encoded as binary. */
export function multipartEvent(files: Array<{ field?: string; filename?: string; bytes: Uint8Array }>, query?: Query, path = '/classify'): APIGatewayProxyEvent {
  const parts = files.map((f) =>
    Buffer.concat([
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${f.field ?? 'image'}"${f.filename ? `; filename="${f.filename}"` : ''}\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      Buffer.from(f.bytes),
      Buffer.from('\r\n'),
    ]),
  );
  const body = Buffer.concat([...parts, Buffer.from(`--${BOUNDARY}--\r\n`)]);
  return apiEvent({
    path,
    headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: body.toString('base64'),
    isBase64Encoded: true,
    queryStringParameters: query ?? null,
  });
}

/** A small picture of one colour. */
export function solidJpeg(rgb: [number, number, number] = [200, 60, 30], size = 48): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).jpeg().toBuffer();
}

/** Noise compresses poorly: cutting the file leaves real scan data missing. */
export function noisyJpeg(size = 64): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg()
    .toBuffer();
}

export interface JsonAnswer {
  status: number;
  body: Record<string, any>;
}

/** The routes as the classify function serves them (the API's HTTP handler over them): one event in, its proxy result out. */
export function serve(routes: readonly Route[]): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const handler = createHttpHandler(async () => routes);
  return (event) => handler(event, lambdaContext());
}

export function parseAnswer(result: { statusCode: number; body: string; headers?: Record<string, unknown> }): JsonAnswer {
  expect(result.headers?.['content-type']).toBe('application/json; charset=utf-8');
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, any> };
}
