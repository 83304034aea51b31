import { randomUUID } from 'node:crypto';
import { HeadstartError } from '../../src/errors.js';
import { BatchSubmitter, batchJobName, type BatchQueueOptions } from './batch.js';
import { logger } from '../../src/logger.js';

export type { BatchSdk } from './batch.js';

/** Where a backfill runs: an AWS Batch array job on GPUs in the cloud, this process locally. */
export interface BackfillLauncher {
  submit(request: BackfillRequest): Promise<BackfillSubmission>;
}

export interface BackfillRequest {
  dataset: string;
  /** s3://<bucket>/images/<dataset>/ */
  source: string;
  shards: number;
}

export interface BackfillSubmission {
  backfillId: string;
  /** Where it runs: 'batch' (AWS Batch job id in backfillId) or 'local'. */
  runner: 'batch' | 'local';
}

export class BackfillError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BackfillFailed', message, options);
  }
}

export interface BatchBackfillLauncherOptions extends BatchQueueOptions {
  model: string;
}

/**
 * Submits `headstart extract <source> --shards N` as an AWS Batch job on the GPU queue
 * (https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html): an array job of N children
 * when N > 1 (Batch needs at least 2), each taking shard AWS_BATCH_JOB_ARRAY_INDEX of the images.
 */
export class BatchBackfillLauncher implements BackfillLauncher {
  private readonly batch: BatchSubmitter;

  constructor(private readonly options: BatchBackfillLauncherOptions) {
    this.batch = new BatchSubmitter(options, 'POST /backfill', (message, cause) => new BackfillError(message, { cause }));
  }

  async submit(request: BackfillRequest): Promise<BackfillSubmission> {
    const backfillId = await this.batch.submit(
      {
        jobName: batchJobName(`headstart-backfill-${request.dataset}-${Date.now()}`),
        parameters: { source: request.source, model: this.options.model, shards: String(request.shards) },
        ...(request.shards > 1 ? { arrayProperties: { size: request.shards } } : {}),
      },
      `the backfill of '${request.dataset}'`,
    );
    return { backfillId, runner: 'batch' };
  }
}

/**
 * The local launcher: runs the work in this process, one backfill at a time, off the request path.
 * `run` is the bulk extraction (src/features/backfill.ts) over the dataset's prefix.
 */
export class InProcessBackfillLauncher implements BackfillLauncher {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly run: (request: BackfillRequest) => Promise<unknown>) {}

  async submit(request: BackfillRequest): Promise<BackfillSubmission> {
    const backfillId = `local-${randomUUID()}`;
    this.chain = this.chain
      // A fresh macrotask: the request that submitted it is answered before any extraction work starts.
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      .then(() => this.run(request))
      .catch((error: unknown) => logger.error('local backfill failed', { backfillId, error }));
    return { backfillId, runner: 'local' };
  }

  /** Resolves when every submitted backfill has finished. */
  idle(): Promise<void> {
    return this.chain.then(() => undefined);
  }
}
