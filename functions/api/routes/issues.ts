import { InvalidArgumentError } from '../../../src/errors.js';
import { planDatasetIssues, syncIssueLimit } from '../../../src/datatools/issues.js';
import { issuesJobPointerKey } from '../../../src/datatools/keys.js';
import { validateDatasetName } from '../../../src/layout.js';
import type { FeatureNamespace } from '../../../src/features/namespace.js';
import { createIssuesJob, presentJob, readJob } from '../../../src/jobs/records.js';
import type { IssuesJobRecord, IssuesRequest } from '../../../src/jobs/types.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { HttpError } from '../errors.js';
import type { ApiResponse } from '../http.js';
import type { TrainLauncher } from '../launchers.js';
import type { Route } from '../router.js';
import { launch } from './train.js';

export interface IssuesDeps {
  store: ObjectStore;
  namespace: () => Promise<FeatureNamespace>;
  /** Runs dataset issues jobs; absent: a dataset above the limit answers 413 DatasetTooLarge. */
  issuesLauncher?: TrainLauncher;
  /** @default syncIssueLimit() (HEADSTART_SYNC_ISSUE_LIMIT, else SYNC_ISSUE_LIMIT = 10,000) */
  syncIssueLimit?: number;
}

/** The job a pointer names, while it is still queued or running (a stale one is presented as failed, so a new one starts). */
async function activeJob(store: ObjectStore, pointer: string): Promise<IssuesJobRecord | undefined> {
  let jobId: string;
  try {
    jobId = (JSON.parse((await store.get(pointer)).toString('utf8')) as { jobId: string }).jobId;
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
    throw error;
  }
  let job;
  try {
    job = presentJob(await readJob(store, jobId));
  } catch (error) {
    if ((error as { code?: string }).code === 'JobNotFound') return undefined;
    throw error;
  }
  return job.kind === 'issues' && (job.status === 'queued' || job.status === 'running') ? job : undefined;
}

function accepted(job: IssuesJobRecord): ApiResponse {
  const location = `/jobs/${job.jobId}`;
  return { statusCode: 202, headers: { location }, body: { jobId: job.jobId, kind: job.kind, status: job.status, location } };
}

/**
 * GET /datasets/{name}/issues[?against=<other>]: duplicates, leakage into `against`, likely label errors
 * and outliers, each sorted most suspicious first (src/datatools). Served from the cache when the dataset
 * (and `against`) are unchanged since they were computed; else computed within the request up to the
 * synchronous limit (10,000 images; HEADSTART_SYNC_ISSUE_LIMIT). Above it: 202 with a dataset issues job
 * (GET /jobs/{id}) that computes the same answer into the same cache, which this route then serves (200);
 * asked again while that job is queued or running, the same job. Without a job runner: 413 DatasetTooLarge,
 * pointing at `headstart issues`, whose result the route serves the same way.
 */
export function issuesRoutes(deps: IssuesDeps): Route[] {
  async function issues(name: string, query: Record<string, string>): Promise<ApiResponse> {
    for (const param of Object.keys(query)) {
      if (param !== 'against') throw new InvalidArgumentError(`Unknown query parameter '${param}': expected 'against'.`);
    }
    const dataset = validateDatasetName(name);
    const against = query.against ? validateDatasetName(query.against) : undefined;
    if (against === dataset) throw new InvalidArgumentError(`'against' must name another dataset than '${dataset}' (its own duplicates are in 'duplicates').`);
    const plan = await planDatasetIssues(deps.store, await deps.namespace(), dataset, { against });
    if (plan.cached) return { statusCode: 200, body: plan.cached };
    const limit = deps.syncIssueLimit ?? syncIssueLimit();
    if (plan.images <= limit) return { statusCode: 200, body: await plan.compute() };
    if (!deps.issuesLauncher) {
      throw new HttpError(
        'DatasetTooLarge',
        `Dataset '${dataset}' has ${plan.images} extracted images; issues are computed within a request for up to ${limit}, and this deployment has no job runner for more. ` +
          `Compute them offline with 'headstart issues ${dataset}' (same answer, cached for the API).`,
      );
    }
    const pointer = issuesJobPointerKey(plan.key);
    const running = await activeJob(deps.store, pointer);
    if (running) return accepted(running);
    const request: IssuesRequest = { dataset, ...(against !== undefined ? { against } : {}) };
    const job = await createIssuesJob(deps.store, request, plan.key);
    await deps.store.put(pointer, JSON.stringify({ jobId: job.jobId }), { contentType: 'application/json' });
    return launch(deps.store, deps.issuesLauncher, job);
  }
  return [{ method: 'GET', path: '/datasets/{name}/issues', handler: async (request) => issues(request.params.name!, request.query) }];
}
