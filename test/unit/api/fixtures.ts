import type { FeatureNamespace } from '../../../src/features/pipeline.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import type { ApiDeps } from '../../../functions/api/deps.js';
import { apiRoutes } from '../../../functions/api/handler.js';
import { createHttpHandler } from '../../../functions/api/http-handler.js';
import type { Route } from '../../../functions/api/router.js';
import type { TrainLauncher } from '../../../functions/api/launchers.js';
import type { UploadSigner } from '../../../functions/api/uploads.js';
import { apiEvent, lambdaContext, parseResult, type ApiEventOptions } from '../../helpers/events.js';
import { NS } from '../jobs/fixtures.js';

/** Records launched job ids; never runs them. */
export class RecordingLauncher implements TrainLauncher {
  readonly launched: string[] = [];
  failWith?: Error;

  async launch(jobId: string): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.launched.push(jobId);
  }
}

/** Signs nothing: returns a recognisable fake URL and records what it was asked for. */
export class FakeSigner implements UploadSigner {
  readonly calls: Array<{ key: string; contentType?: string; expiresIn: number }> = [];

  async presignPut(key: string, options: { contentType?: string; expiresIn: number }): Promise<string> {
    this.calls.push({ key, ...options });
    return `https://bucket.example/${key}?signed=1`;
  }
}

export interface TestApi {
  store: ObjectStore;
  launcher: TrainLauncher;
  uploads: FakeSigner;
  call<T = any>(method: string, path: string, options?: ApiEventOptions): Promise<{ status: number; headers: Record<string, unknown>; body: T }>;
}

/** The API handler over a MemoryStore with the test namespace; `overrides` replace any dependency, `routes` are mounted beside the API's. */
export function testApi({ routes = [], ...overrides }: Partial<ApiDeps> & { namespace?: () => Promise<FeatureNamespace>; routes?: Route[] } = {}): TestApi {
  const deps: ApiDeps = {
    store: new MemoryStore(),
    namespace: async () => NS,
    launcher: new RecordingLauncher(),
    uploads: new FakeSigner(),
    ...overrides,
  };
  const handler = createHttpHandler(async () => [...apiRoutes(deps), ...routes]);
  return {
    store: deps.store,
    launcher: deps.launcher,
    uploads: deps.uploads as FakeSigner,
    async call(method, path, options) {
      return parseResult(await handler(apiEvent(method, path, options), lambdaContext()));
    },
  };
}
