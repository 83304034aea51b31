import { describe, expect, it } from 'vitest';
import { Router, type Route } from '../../../functions/api/router.js';
import { apiEvent } from '../../helpers/events.js';

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
