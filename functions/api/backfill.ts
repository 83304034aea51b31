import { randomUUID } from 'node:crypto';
import { HeadstartError } from '../../src/errors.js';

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

/** The subset of @aws-sdk/client-batch the launcher uses. */
export interface BatchSdk {
  BatchClient: new (config: Record<string, unknown>) => { send(command: unknown): Promise<{ jobId?: string; jobName?: string }> };
  SubmitJobCommand: new (input: {
    jobName: string;
    jobQueue: string;
    jobDefinition: string;
    parameters: Record<string, string>;
    arrayProperties?: { size: number };
  }) => unknown;
}

export interface BatchBackfillLauncherOptions {
  jobQueue: string;
  jobDefinition: string;
  model: string;
  /** @default import('@aws-sdk/client-batch') (the nodejs22.x runtime ships it) */
  loadSdk?: () => Promise<BatchSdk>;
}

const BATCH_SDK = '@aws-sdk/client-batch';

/**
 * Submits `headstart extract <source> --shards N` as an AWS Batch job on the GPU queue
 * (https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html): an array job of N children
 * when N > 1 (Batch needs at least 2), each taking shard AWS_BATCH_JOB_ARRAY_INDEX of the images.
 */
export class BatchBackfillLauncher implements BackfillLauncher {
  private client?: { send(command: unknown): Promise<{ jobId?: string }> };

  constructor(private readonly options: BatchBackfillLauncherOptions) {}

  async submit(request: BackfillRequest): Promise<BackfillSubmission> {
    let sdk: BatchSdk;
    try {
      sdk = await (this.options.loadSdk ?? (() => import(BATCH_SDK) as Promise<BatchSdk>))();
    } catch (error) {
      throw new BackfillError(`POST /backfill needs ${BATCH_SDK}, and it could not be loaded: ${(error as Error).message}`, { cause: error });
    }
    this.client ??= new sdk.BatchClient({});
    const command = new sdk.SubmitJobCommand({
      jobName: `headstart-backfill-${request.dataset}-${Date.now()}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128),
      jobQueue: this.options.jobQueue,
      jobDefinition: this.options.jobDefinition,
      parameters: { source: request.source, model: this.options.model, shards: String(request.shards) },
      ...(request.shards > 1 ? { arrayProperties: { size: request.shards } } : {}),
    });
    try {
      const response = await this.client.send(command);
      if (!response.jobId) throw new Error('SubmitJob returned no jobId');
      return { backfillId: response.jobId, runner: 'batch' };
    } catch (error) {
      throw new BackfillError(`AWS Batch did not accept the backfill of '${request.dataset}': ${(error as Error).message}`, { cause: error });
    }
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
      .catch((error: unknown) => console.error(JSON.stringify({ level: 'error', message: 'local backfill failed', backfillId, error: String(error) })));
    return { backfillId, runner: 'local' };
  }

  /** Resolves when every submitted backfill has finished. */
  idle(): Promise<void> {
    return this.chain.then(() => undefined);
  }
}
