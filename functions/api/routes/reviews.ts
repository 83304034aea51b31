import { InvalidArgumentError } from '../../../src/errors.js';
import { acceptReview, discardReview, listReviews } from '../../../src/datatools/reviews.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { HttpError } from '../errors.js';
import type { ApiRequest } from '../http.js';
import type { Route } from '../router.js';

/** The review queue that POST /classify fills (`review=true`, `minConfidence`); src/datatools/reviews.ts. */
export function reviewRoutes(deps: { store: ObjectStore }): Route[] {
  /** Unknown reviews are 404 here (the API's error mapping knows the code too late to be worth a second list). */
  const guard = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (error) {
      if ((error as { code?: string }).code === 'ReviewNotFound') throw new HttpError('ReviewNotFound', (error as Error).message);
      throw error;
    }
  };

  async function list(request: ApiRequest) {
    const { dataset, ...rest } = request.query;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw new InvalidArgumentError(`Unknown query parameter '${unknown}': expected 'dataset'.`);
    if (!dataset) throw new InvalidArgumentError("GET /reviews needs ?dataset=<name>: the dataset whose queue to list.");
    const reviews = await listReviews(deps.store, dataset);
    return { statusCode: 200, body: { dataset, reviews } };
  }

  async function label(request: ApiRequest) {
    const body = request.json();
    if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).some((k) => k !== 'label')) {
      throw new InvalidArgumentError('The request body must be a JSON object like {"label": "rose"}.');
    }
    const { key, review } = await guard(() => acceptReview(deps.store, request.params.id!, (body as { label?: unknown }).label));
    return { statusCode: 200, body: { id: review.id, key, label: (body as { label: string }).label } };
  }

  async function discard(request: ApiRequest) {
    const review = await guard(() => discardReview(deps.store, request.params.id!));
    return { statusCode: 200, body: { id: review.id, discarded: true } };
  }

  return [
    { method: 'GET', path: '/reviews', handler: list },
    { method: 'POST', path: '/reviews/{id}', handler: label },
    { method: 'DELETE', path: '/reviews/{id}', handler: discard },
  ];
}
