import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLocalApi } from '../../../functions/api/local.js';
import { errorResponse, statusOf } from '../../../functions/api/errors.js';
import { createHttpHandler } from '../../../functions/api/http-handler.js';
import type { Route } from '../../../functions/api/router.js';
import { HeadstartError, InvalidArgumentError } from '../../../src/errors.js';
import { MemoryStore, StoreUnavailableError } from '../../../src/store/index.js';
import { lambdaContext } from '../../helpers/events.js';
import { FakeSigner } from '../api/fixtures.js';
import { NS } from '../jobs/fixtures.js';
import { apiEvent } from './events.js';

/** The classify function is the API's HTTP handler (functions/api/http-handler.ts) over the classify routes. */
const context = lambdaContext();

function fakeRoutes(): Route[] {
  const answer = (name: string) => async () => ({ statusCode: 200, body: { route: name } });
  return [
    { method: 'POST', path: '/classify', handler: answer('classify') },
    { method: 'POST', path: '/features', handler: answer('features') },
  ];
}

afterEach(() => vi.restoreAllMocks());

describe('the classify routes on the HTTP handler', () => {
  it('dispatches on the resource path, with or without a trailing slash or a proxy resource', async () => {
    const handler = createHttpHandler(async () => fakeRoutes());

    const classify = await handler(apiEvent({ path: '/classify', resource: '/classify' }), context);
    const features = await handler(apiEvent({ path: '/features/', resource: '/{proxy+}' }), context);

    expect(JSON.parse(classify.body)).toEqual({ route: 'classify' });
    expect(JSON.parse(features.body)).toEqual({ route: 'features' });
  });

  it('404 for another path, 405 with Allow for another method', async () => {
    const handler = createHttpHandler(async () => fakeRoutes());

    const missing = await handler(apiEvent({ path: '/train', resource: '/train' }), context);
    const get = await handler(apiEvent({ httpMethod: 'GET' }), context);

    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body).error).toEqual({ code: 'RouteNotFound', message: "No route for POST /train: the API has 'POST /classify' or 'POST /features'." });
    expect(get.statusCode).toBe(405);
    expect(get.headers).toMatchObject({ allow: 'POST' });
    expect(JSON.parse(get.body).error.code).toBe('MethodNotAllowed');
  });

  it('a service that cannot start answers 500 with the reason, and the next request tries again', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let calls = 0;
    const handler = createHttpHandler(async () => {
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
    expect(JSON.parse(result.body).error).toEqual({
      code: 'ServiceMisconfigured',
      message: 'The API cannot start: HEADSTART_BUCKET is not set: the bucket the service reads and writes.',
    });
    vi.unstubAllEnvs();
  });
});

describe('error statuses', () => {
  it('our bugs are 500 with a generic message (no stack, no internals), logged', () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);

    const result = errorResponse(new TypeError("Cannot read properties of undefined (reading 'x')"), { requestId: 'req-1', route: 'POST /classify' });

    expect(result.statusCode).toBe(500);
    expect(result.body).toEqual({ error: { code: 'InternalError', message: 'Internal error; the API logs have the details (request id req-1).' } });
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

describe('one router for both functions (headstart dev)', () => {
  it('serves the classify routes beside the API routes', async () => {
    const local = createLocalApi({ store: new MemoryStore(), namespace: async () => NS, uploads: new FakeSigner(), routes: fakeRoutes() });

    const classify = await local.handler(apiEvent({ path: '/classify', resource: '/classify' }), context);
    const models = await local.handler(apiEvent({ path: '/models', resource: '/models', httpMethod: 'GET' }), context);
    const get = await local.handler(apiEvent({ path: '/features', resource: '/features', httpMethod: 'GET' }), context);

    expect(JSON.parse(classify.body)).toEqual({ route: 'classify' });
    expect(models.statusCode).toBe(200);
    expect(JSON.parse(models.body)).toHaveProperty('models');
    expect(get.statusCode).toBe(405);
    await local.close();
  });
});
