// read.js, not the registry index: publishing and loading need TF.js, listing and deleting do not.
import { deleteHead, getHead, listHeads } from '../../../src/registry/read.js';
import type { ApiDeps } from '../deps.js';
import type { Route } from '../router.js';

/** The head registry: GET /models (published heads, newest first), GET|DELETE /models/{id}. */
export function modelRoutes(deps: ApiDeps): Route[] {
  return [
    { method: 'GET', path: '/models', handler: async () => ({ statusCode: 200, body: { models: await listHeads(deps.store) } }) },
    { method: 'GET', path: '/models/{id}', handler: async (request) => ({ statusCode: 200, body: await getHead(deps.store, request.params.id!) }) },
    {
      method: 'DELETE',
      path: '/models/{id}',
      handler: async (request) => {
        await deleteHead(deps.store, request.params.id!);
        return { statusCode: 200, body: { headId: request.params.id, deleted: true } };
      },
    },
  ];
}
