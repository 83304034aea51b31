import { InvalidArgumentError } from '../../../src/errors.js';
import { datasetIssues } from '../../../src/datatools/issues.js';
import { validateDatasetName } from '../../../src/layout.js';
import type { FeatureNamespace } from '../../../src/features/namespace.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { HttpError } from '../errors.js';
import type { Route } from '../router.js';

export interface IssuesDeps {
  store: ObjectStore;
  namespace: () => Promise<FeatureNamespace>;
}

/**
 * GET /datasets/{name}/issues[?against=<other>]: duplicates, leakage into `against`, likely label errors
 * and outliers, each sorted most suspicious first (src/datatools). Computed from the cached features up
 * to SYNC_ISSUE_LIMIT images and cached until the dataset (or `against`) changes; larger datasets answer
 * 413 DatasetTooLarge, pointing at `headstart issues`, whose result the route then serves from the cache.
 */
export function issuesRoutes(deps: IssuesDeps): Route[] {
  async function issues(name: string, query: Record<string, string>) {
    for (const param of Object.keys(query)) {
      if (param !== 'against') throw new InvalidArgumentError(`Unknown query parameter '${param}': expected 'against'.`);
    }
    const dataset = validateDatasetName(name);
    const against = query.against ? validateDatasetName(query.against) : undefined;
    if (against === dataset) throw new InvalidArgumentError(`'against' must name another dataset than '${dataset}' (its own duplicates are in 'duplicates').`);
    try {
      return await datasetIssues(deps.store, await deps.namespace(), dataset, { against });
    } catch (error) {
      if ((error as { code?: string }).code === 'DatasetTooLarge') throw new HttpError('DatasetTooLarge', (error as Error).message);
      throw error;
    }
  }
  return [{ method: 'GET', path: '/datasets/{name}/issues', handler: async (request) => ({ statusCode: 200, body: await issues(request.params.name!, request.query) }) }];
}
