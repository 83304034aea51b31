// read.js, not the registry or finetune index: publishing and loading need TF.js, listing and deleting do not.
import { HeadstartError } from '../../../src/errors.js';
import { deleteFinetuned, getFinetuned, listFinetuned } from '../../../src/finetune/read.js';
import { deleteHead, getHead, listHeads } from '../../../src/registry/read.js';
import type { ApiDeps } from '../deps.js';
import type { Route } from '../router.js';

const isHeadNotFound = (error: unknown): boolean => error instanceof HeadstartError && error.code === 'HeadNotFound';

/**
 * The registry: GET /models (published heads, newest first, under `models`; fine-tuned models under
 * `finetuned`), GET|DELETE /models/{id} (a head, else a fine-tuned model of that id).
 */
export function modelRoutes(deps: ApiDeps): Route[] {
  /** The head of that id, else the fine-tuned model; a miss on both answers with the head registry's 404. */
  async function either<T>(id: string, head: () => Promise<T>, finetuned: () => Promise<T>): Promise<T> {
    try {
      return await head();
    } catch (error) {
      if (!isHeadNotFound(error)) throw error;
      try {
        return await finetuned();
      } catch (second) {
        throw (second as { code?: string }).code === 'FinetunedModelNotFound' ? error : second;
      }
    }
  }
  return [
    {
      method: 'GET',
      path: '/models',
      handler: async () => {
        const [models, finetuned] = await Promise.all([listHeads(deps.store), listFinetuned(deps.store)]);
        return { statusCode: 200, body: { models, finetuned } };
      },
    },
    {
      method: 'GET',
      path: '/models/{id}',
      handler: async (request) => {
        const id = request.params.id!;
        const body = await either<object>(
          id,
          () => getHead(deps.store, id),
          async () => {
            const { config, metrics, pointer } = await getFinetuned(deps.store, id);
            return { ...config, publishedAt: pointer.publishedAt, metrics };
          },
        );
        return { statusCode: 200, body };
      },
    },
    {
      method: 'DELETE',
      path: '/models/{id}',
      handler: async (request) => {
        const id = request.params.id!;
        const body = await either<object>(
          id,
          async () => (await deleteHead(deps.store, id), { headId: id, deleted: true }),
          async () => (await deleteFinetuned(deps.store, id), { modelId: id, deleted: true }),
        );
        return { statusCode: 200, body };
      },
    },
  ];
}
