import type { FeatureNamespace } from '../../src/features/pipeline.js';
import { runFinetuneJob } from '../../src/finetune/index.js';
import { runTrainingJob } from '../../src/heads/job.js';
import { runIssuesJob } from '../../src/datatools/issues-job.js';
import { runPredictJob, type ImageClassifier, type PendingExtraction, type WebhookOptions } from '../../src/predict/index.js';
import { readJob, watchForStop } from '../../src/jobs/index.js';
import type { ObjectStore } from '../../src/store/index.js';
import type { ApiDeps, RecoveryStatus } from './deps.js';
import { runJobWorker, type JobWorkerOptions } from './job-worker.js';
import { apiRoutes } from './handler.js';
import { createHttpHandler } from './http-handler.js';
import { InProcessTrainLauncher } from './launchers.js';
import type { Route } from './router.js';
import type { Embedder } from './routes/similar.js';
import type { DownloadSigner, UploadSigner } from './uploads.js';
import type { BackfillLauncher } from './backfill.js';
import { logger } from '../../src/logger.js';

export interface LocalApiOptions {
  store: ObjectStore;
  /** Images GET /datasets/{name}/issues computes within the request; above it, a job. @default syncIssueLimit() */
  syncIssueLimit?: number;
  namespace: () => Promise<FeatureNamespace>;
  uploads: UploadSigner;
  uploadTtlSeconds?: number;
  /** Presigns GETs of prediction results (GET /jobs/{id}/results?format=csv|jsonl). */
  downloads?: DownloadSigner;
  /** Feature vectors of sent images for POST /similar. */
  embed?: Embedder;
  /** The startup reconciliation's progress, for GET /datasets/{name} (local/recovery.ts). */
  recovery?: RecoveryStatus;
  /** Routes served beside the API's on the same router: the classify routes (in the cloud their own function serves them). */
  routes?: readonly Route[];
  /** Runs POST /backfill in this process (InProcessBackfillLauncher). */
  backfill?: BackfillLauncher;
  /** The weights cache fine-tuning starts from ($HEADSTART_HOME). */
  home?: string;
  /**
   * Jobs of both kinds run as `headstart finetune|train --job <id>` child processes on this store (what the dev
   * stack does: the server stays responsive while a job trains, and a fault of the training backend or process
   * ends the worker, not the server). Absent: in this process (tests on a MemoryStore, which a child cannot reach).
   */
  jobWorker?: Omit<JobWorkerOptions, 'home'>;
  /** Batch prediction (POST /predict) in this process: how uncached images are extracted, and the classifier of `model` jobs. */
  predict?: LocalPredictOptions;
}

export interface LocalPredictOptions {
  /** The upload path's Ingestor in this process (inProcessExtraction), so extracted images are cached as uploads are. */
  extraction?: PendingExtraction;
  /** The classify service, for `model` jobs. */
  classifier?: ImageClassifier;
  webhook?: WebhookOptions;
}

/**
 * Runs one job of any kind, a head on cached features (seconds) or fine-tuning on images, in a worker
 * process when `jobWorker` is set, else in this process; a batch prediction always in this process.
 * Fine-tuning records its own failure in the job and resumes from its checkpoint when run again.
 */
export async function runLocalJob(options: Pick<LocalApiOptions, 'store' | 'namespace' | 'home' | 'jobWorker' | 'predict'>, jobId: string, shutdown: AbortSignal): Promise<void> {
  const job = await readJob(options.store, jobId);
  // A prediction job stays in this process: it extracts with the server's own loaded pipeline (the upload path's Ingestor).
  // A dataset issues job too: it reads the cached features once and runs the finders (no network to load).
  if (options.jobWorker && job.kind !== 'predict' && job.kind !== 'issues') {
    // The worker (`headstart finetune|train --job`) watches for POST /jobs/{id}/stop itself.
    const namespace = job.kind === 'train' ? await options.namespace() : undefined;
    await runJobWorker(options.store, job, shutdown, { ...options.jobWorker, home: options.home, namespace });
    return;
  }
  // POST /jobs/{id}/stop, or the server shutting down.
  const { signal, close } = watchForStop(options.store, jobId, shutdown);
  try {
    await runInProcess(options, job, signal);
  } finally {
    close();
  }
}

async function runInProcess(options: Pick<LocalApiOptions, 'store' | 'namespace' | 'home' | 'predict'>, job: Awaited<ReturnType<typeof readJob>>, signal: AbortSignal): Promise<void> {
  const { jobId } = job;
  if (job.kind === 'train') {
    await runTrainingJob(options.store, jobId, { namespace: await options.namespace(), signal });
    return;
  }
  if (job.kind === 'predict') {
    await runPredictJob(options.store, jobId, { namespace: await options.namespace(), signal, ...options.predict });
    return;
  }
  if (job.kind === 'issues') {
    await runIssuesJob(options.store, jobId, { namespace: await options.namespace(), signal });
    return;
  }
  try {
    await runFinetuneJob(options.store, jobId, job.request, { signal, home: options.home });
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'InternalError';
    logger[code === 'InternalError' ? 'error' : 'warn']('fine-tuning job failed', { jobId, code, error });
  }
}

export interface LocalApi {
  handler: ReturnType<typeof createHttpHandler>;
  /** Head training jobs, one at a time. */
  launcher: InProcessTrainLauncher;
  /** Fine-tuning jobs, one at a time, beside head training: a long fine-tuning run never holds up a head. */
  finetuneLauncher: InProcessTrainLauncher;
  /** Batch prediction jobs, one at a time, beside the others: a prefix of a million images never holds up training. */
  predictLauncher: InProcessTrainLauncher;
  /** Dataset issues jobs (GET /datasets/{name}/issues above the synchronous limit), one at a time, beside the others. */
  issuesLauncher: InProcessTrainLauncher;
  /** Stops all four, recording running jobs as aborted. */
  close(): Promise<void>;
}

/**
 * The API as `headstart dev` runs it: the same handler, with jobs run off the request path by two local
 * launchers, as the cloud keeps them apart (the train function, the GPU batch job), each job in a worker
 * process (`jobWorker`) or this one. Close them on shutdown.
 */
export function createLocalApi(options: LocalApiOptions): LocalApi {
  const run = (jobId: string, signal: AbortSignal) => runLocalJob(options, jobId, signal);
  const launcher = new InProcessTrainLauncher(run);
  const finetuneLauncher = new InProcessTrainLauncher(run);
  const predictLauncher = new InProcessTrainLauncher(run);
  const issuesLauncher = new InProcessTrainLauncher(run);
  // One local queue for both kinds of prediction job: the server's classify service runs the model ones.
  const modelPredictLauncher = options.predict?.classifier ? predictLauncher : undefined;
  const deps: ApiDeps = { ...options, launcher, finetuneLauncher, predictLauncher, modelPredictLauncher, issuesLauncher };
  return {
    handler: createHttpHandler(async () => [...apiRoutes(deps), ...(options.routes ?? [])]),
    launcher,
    finetuneLauncher,
    predictLauncher,
    issuesLauncher,
    close: async () => {
      await Promise.all([launcher.close(), finetuneLauncher.close(), predictLauncher.close(), issuesLauncher.close()]);
    },
  };
}
