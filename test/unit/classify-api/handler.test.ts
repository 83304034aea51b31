import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClassifyHandler, withClassifyRoutes } from '../../../functions/classify/handler.js';
import { errorResponse, statusOf } from '../../../functions/classify/http.js';
import type { ClassifyRoute } from '../../../functions/classify/routes.js';
import { HeadstartError, InvalidArgumentError } from '../../../src/errors.js';
import { StoreUnavailableError } from '../../../src/store/index.js';
import { apiEvent } from './events.js';

const context = {} as Context;

function fakeRoutes(): ClassifyRoute[] {
  const answer = (name: string) => async () => ({ statusCode: 200, body: JSON.stringify({ route: name }) });
  return [
    { method: 'POST', path: '/classify', handler: answer('classify') },
    { method: 'POST', path: '/features', handler: answer('features') },
  ];
}

afterEach(() => vi.restoreAllMocks());

describe('createClassifyHandler', () => {
  it('dispatches on the resource path, with or without a trailing slash or a proxy resource', async () => {
    const handler = createClassifyHandler(async () => fakeRoutes());

    const classify = await handler(apiEvent({ path: '/classify', resource: '/classify' }), context);
    const features = await handler(apiEvent({ path: '/features/', resource: '/{proxy+}' }), context);

    expect(JSON.parse(classify.body)).toEqual({ route: 'classify' });
    expect(JSON.parse(features.body)).toEqual({ route: 'features' });
  });

  it('404 for another path, 405 with Allow for another method', async () => {
    const handler = createClassifyHandler(async () => fakeRoutes());

    const missing = await handler(apiEvent({ path: '/train', resource: '/train' }), context);
    const get = await handler(apiEvent({ httpMethod: 'GET' }), context);

    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body).error).toEqual({ code: 'NotFound', message: 'No route for /train: this function serves POST /classify, POST /features.' });
    expect(get.statusCode).toBe(405);
    expect(get.headers).toMatchObject({ Allow: 'POST' });
    expect(JSON.parse(get.body).error.code).toBe('MethodNotAllowed');
  });

  it('a service that cannot start answers 500 with the reason, and the next request tries again', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let calls = 0;
    const handler = createClassifyHandler(async () => {
      calls++;
      if (calls === 1) throw new InvalidArgumentError('HEADSTART_BUCKET is not set: the bucket the service reads and writes.');
      return fakeRoutes();
    });

    const first = await handler(apiEvent(), context);
    const second = await handler(apiEvent(), context);

    expect(first.statusCode).toBe(500);
    expect(JSON.parse(first.body).error.message).toContain('HEADSTART_BUCKET is not set');
    expect(second.statusCode).toBe(200);
  });
});

describe('the Lambda entry (functions/classify/index.ts)', () => {
  it('loads without side effects outside Lambda and answers 500 when HEADSTART_BUCKET is missing', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.stubEnv('HEADSTART_BUCKET', '');
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', '');
    const { handler } = await import('../../../functions/classify/index.js');

    const result = await handler(apiEvent(), context);

    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body).error).toEqual({ code: 'InvalidArgument', message: 'HEADSTART_BUCKET is not set: the bucket the service reads and writes.' });
    vi.unstubAllEnvs();
  });
});

describe('error statuses', () => {
  it('our bugs are 500 with a generic message (no stack, no internals), logged', () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);

    const result = errorResponse(new TypeError("Cannot read properties of undefined (reading 'x')"), apiEvent());

    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({
      error: { code: 'InternalError', message: 'Internal error: the request could not be completed; the service logs have the details.' },
    });
    expect(log).toHaveBeenCalledOnce();
    expect(String(log.mock.calls[0]![0])).toContain('reading');
  });

  it('transient storage errors are 503; unknown HeadstartError codes 500', () => {
    expect(statusOf(new StoreUnavailableError('S3 is throttling'))).toBe(503);
    expect(statusOf(new HeadstartError('WeightsUnavailable', 'place the file'))).toBe(503);
    expect(statusOf(new HeadstartError('SomethingNew', 'x'))).toBe(500);
    expect(statusOf(new HeadstartError('ImageTooLarge', 'x'))).toBe(413);
  });
});

describe('withClassifyRoutes (one local server for both functions)', () => {
  it('sends /classify and /features to the classify routes and everything else on', async () => {
    const seen: string[] = [];
    const next = async (event: { path: string }) => {
      seen.push(event.path);
      return { statusCode: 202, body: '{}' };
    };
    const handler = withClassifyRoutes(fakeRoutes(), next as never);

    const classify = await handler(apiEvent({ path: '/classify', resource: '/classify' }), context);
    const train = await handler(apiEvent({ path: '/train', resource: '/train' }), context);
    const get = await handler(apiEvent({ path: '/features', resource: '/features', httpMethod: 'GET' }), context);

    expect(JSON.parse(classify.body)).toEqual({ route: 'classify' });
    expect(train.statusCode).toBe(202);
    expect(seen).toEqual(['/train']);
    expect(get.statusCode).toBe(405);
  });
});
