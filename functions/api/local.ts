import type { FeatureNamespace } from '../../src/features/pipeline.js';
import { runTrainingJob } from '../../src/jobs/index.js';
import type { ObjectStore } from '../../src/store/index.js';
import type { ApiDeps } from './deps.js';
import { createApiHandler } from './handler.js';
import { InProcessTrainLauncher } from './launchers.js';
import type { Route } from './router.js';
import type { UploadSigner } from './uploads.js';
import type { BackfillLauncher } from './backfill.js';

export interface LocalApiOptions {
  store: ObjectStore;
  namespace: () => Promise<FeatureNamespace>;
  uploads: UploadSigner;
  uploadTtlSeconds?: number;
  extraRoutes?: readonly Route[];
  /** Runs POST /backfill in this process (InProcessBackfillLauncher). */
  backfill?: BackfillLauncher;
}

/**
 * The API as `headstart dev` runs it: the same handler, with training jobs run in this process by an
 * InProcessTrainLauncher (one at a time, off the request path). Close the launcher on shutdown.
 */
export function createLocalApi(options: LocalApiOptions): { handler: ReturnType<typeof createApiHandler>; launcher: InProcessTrainLauncher } {
  const launcher = new InProcessTrainLauncher(async (jobId, signal) =>
    runTrainingJob(options.store, jobId, { namespace: await options.namespace(), signal }),
  );
  const deps: ApiDeps = { ...options, launcher };
  return { handler: createApiHandler(deps), launcher };
}
