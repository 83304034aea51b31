import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../../functions/api/http-handler.js';
import { Router, type Route } from '../../../functions/api/router.js';
import { apiEvent, lambdaContext, parseResult } from '../../helpers/events.js';

const ok = async () => ({ statusCode: 200 });
const routes: Route[] = [
  { method: 'GET', path: '/models', handler: ok },
  { method: 'GET', path: '/models/{id}', handler: ok },
  { method: 'DELETE', path: '/models/{id}', handler: ok },
];

describe('Router', () => {
  it('matches literal and templated paths, decoding parameters', () => {
    const router = new Router(routes);
    expect(router.match(apiEvent('GET', '/models')).route.path).toBe('/models');
    expect(router.match(apiEvent('GET', '/models/')).route.path).toBe('/models');
    const hit = router.match(apiEvent('DELETE', '/models/my%20head'));
    expect([hit.route.method, hit.params]).toEqual(['DELETE', { id: 'my head' }]);
  });

  it('uses API Gateway resource and path parameters when the event has them', () => {
    const event = { ...apiEvent('GET', '/prod-mapping/models/x'), resource: '/models/{id}', pathParameters: { id: 'x' } };
    expect(new Router(routes).match(event).params).toEqual({ id: 'x' });
  });

  it('throws 400 for broken URL encoding', () => {
    expect(() => new Router(routes).match(apiEvent('GET', '/models/%E0%A4%A'))).toThrow(expect.objectContaining({ statusCode: 400, code: 'InvalidPath' }));
  });

  it('refuses duplicate routes, relative paths and unknown methods', () => {
    expect(() => new Router([...routes, routes[0]!])).toThrow('Route GET /models is defined twice');
    expect(() => new Router([{ method: 'GET', path: 'models', handler: ok }])).toThrow("Route path must start with '/', got 'models'");
    expect(() => new Router([{ method: 'HEAD' as 'GET', path: '/x', handler: ok }])).toThrow("Route /x: method must be 'GET', 'POST', 'PUT', 'PATCH' or 'DELETE', got 'HEAD'");
  });
});

describe('createHttpHandler on events that are not API Gateway proxy events', () => {
  const handler = createHttpHandler(async () => routes);
  const invoke = async (event: unknown) => parseResult(await handler(event as APIGatewayProxyEvent, lambdaContext()));

  it('answers 400 NotAnApiEvent, saying what it expected and what it got, for an event without httpMethod', async () => {
    // Prepare: what a direct invoke with a console test event or an S3 notification sends
    const events = [{}, { key1: 'value1' }, { Records: [{ eventSource: 'aws:s3' }] }, { httpMethod: '', path: '/models' }, { httpMethod: 'GET' }];
    for (const event of events) {
      // Act
      const result = await invoke(event);
      // Assess
      expect(result.status, JSON.stringify(event)).toBe(400);
      expect(result.body.error.code).toBe('NotAnApiEvent');
      expect(result.body.error.message).toContain('API Gateway REST proxy events (payload 1.0, with httpMethod and path)');
    }
    expect((await invoke({ Records: [] })).body.error.message).toContain('an event without httpMethod (keys: Records)');
    expect((await invoke({ httpMethod: 'GET' })).body.error.message).toContain('without a string path');
  });

  it('names an HTTP API payload 2.0 event, and a null or non-object event, as such', async () => {
    const v2 = { version: '2.0', rawPath: '/models', requestContext: { http: { method: 'GET', path: '/models' } } };
    expect(await invoke(v2)).toMatchObject({ status: 400, body: { error: { code: 'NotAnApiEvent', message: expect.stringContaining('an HTTP API payload 2.0 event') } } });
    expect(await invoke(null)).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('it got null') } } });
    expect(await invoke('GET /models')).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('it got string') } } });
  });

  it('still routes a proper proxy event', async () => {
    expect((await invoke(apiEvent('GET', '/models'))).status).toBe(200);
  });
});
