import { HeadstartError } from '../../src/errors.js';
import type { WorkerStatus } from '../../src/jobs/types.js';
import { BatchSubmitter, batchJobName, type BatchQueueOptions } from './batch.js';
import { logger } from '../../src/logger.js';

/** Starts a queued training job somewhere other than the request path. `launch` returns once it is handed off. */
export interface TrainLauncher {
  launch(jobId: string): Promise<void>;
  /**
   * Where a launched job stands on the runner's side, for a job whose record still says queued (its
   * worker has not started, so only the runner knows why). Absent where the record says it all.
   */
  describe?(jobId: string): Promise<WorkerStatus | undefined>;
}


/** The job could not be handed to a trainer (the invoke failed, the SDK is missing, the launcher is closed). */
export class LaunchError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LaunchFailed', message, options);
  }
}

/** The subset of a Lambda client the launcher uses (`LambdaClient` from @aws-sdk/client-lambda has it). */
export interface LambdaLike {
  send(command: unknown): Promise<{ StatusCode?: number; FunctionError?: string }>;
}

/** The parts of @aws-sdk/client-lambda the launcher uses. */
export interface LambdaSdk {
  LambdaClient: new (config: Record<string, unknown>) => LambdaLike;
  InvokeCommand: new (input: { FunctionName: string; InvocationType: 'Event'; Payload: Uint8Array }) => unknown;
}

/**
 * Kept in a variable so TypeScript and esbuild leave the import to run time: the API zip does not bundle it,
 * as the nodejs22.x runtime provides the AWS SDK v3 (locally it comes from package.json).
 */
const LAMBDA_SDK = '@aws-sdk/client-lambda';

export interface LambdaTrainLauncherOptions {
  /** Name or ARN of the train function (TRAIN_FUNCTION_NAME), or of the predict function (PREDICT_FUNCTION_NAME). */
  functionName: string;
  /** What the function is called in errors. @default 'the train function' */
  name?: string;
  /** @default a LambdaClient from the SDK, created on first launch */
  client?: LambdaLike;
  /** @default import('@aws-sdk/client-lambda') */
  loadSdk?: () => Promise<LambdaSdk>;
}

/**
 * The cloud launcher: an asynchronous invoke (InvocationType 'Event') of the train function with
 * `{ jobId }`. Lambda queues the event and answers 202 at once; the train function writes the job's
 * progress and outcome to jobs/<jobId>.json.
 */
export class LambdaTrainLauncher implements TrainLauncher {
  private client?: LambdaLike;
  private sdk?: Promise<LambdaSdk>;

  constructor(private readonly options: LambdaTrainLauncherOptions) {
    this.client = options.client;
  }

  private get name(): string {
    return this.options.name ?? 'the train function';
  }

  async launch(jobId: string): Promise<void> {
    const sdk = await this.loadSdk();
    this.client ??= new sdk.LambdaClient({});
    const payload = new TextEncoder().encode(JSON.stringify({ jobId }));
    let response: { StatusCode?: number; FunctionError?: string };
    try {
      response = await this.client.send(new sdk.InvokeCommand({ FunctionName: this.options.functionName, InvocationType: 'Event', Payload: payload }));
    } catch (error) {
      throw new LaunchError(`Could not start ${this.name} '${this.options.functionName}': ${(error as Error).message}`, { cause: error });
    }
    if (response.StatusCode !== 202) {
      throw new LaunchError(`${capitalized(this.name)} '${this.options.functionName}' did not accept job ${jobId} (status ${response.StatusCode ?? 'none'}).`);
    }
  }

  private loadSdk(): Promise<LambdaSdk> {
    this.sdk ??= (this.options.loadSdk ?? (() => import(LAMBDA_SDK) as Promise<LambdaSdk>))().catch((error: unknown) => {
      this.sdk = undefined;
      throw new LaunchError(`POST /train and POST /predict need ${LAMBDA_SDK} to start ${this.name}, and it could not be loaded: ${(error as Error).message}`, {
        cause: error,
      });
    });
    return this.sdk;
  }
}

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The cloud launcher of fine-tuning jobs: SubmitJob of the GPU job definition whose command is
 * `headstart finetune --job Ref::jobId` (infra/batch.ts); the job reads its request from jobs/<jobId>.json
 * and writes progress there. Batch retries a reclaimed Spot attempt, which resumes from the checkpoint.
 */
export class BatchFinetuneLauncher implements TrainLauncher {
  private readonly batch: BatchSubmitter;

  constructor(options: BatchQueueOptions) {
    this.batch = new BatchSubmitter(options, 'Fine-tuning', (message, cause) => new LaunchError(message, { cause }));
  }

  async describe(jobId: string): Promise<WorkerStatus | undefined> {
    const job = await this.batch.findByName(batchJobName(`headstart-finetune-${jobId}`));
    if (!job?.status) return undefined;
    return { runner: 'aws-batch', status: job.status, statusReason: job.statusReason, id: job.jobId };
  }

  async launch(jobId: string): Promise<void> {
    const jobName = batchJobName(`headstart-finetune-${jobId}`);
    const batchJobId = await this.batch.submit({ jobName, parameters: { jobId } }, `fine-tuning job ${jobId}`);
    // The job record is the worker's to write once it runs; the Batch side of a job is found from here (or by name).
    logger.info('fine-tuning job submitted to AWS Batch', { jobId, batchJobId, jobName });
  }
}

/** Runs one job to its end; the signal asks it to stop early (the runner then records the job as failed). */
export type JobRunner = (jobId: string, signal: AbortSignal) => Promise<unknown>;

/**
 * The local launcher: jobs run in this process, one at a time, in launch order, each started from a
 * fresh macrotask so `launch` returns before any training work. Training yields between batches (it
 * always gets an AbortSignal), so API requests are served while a job runs.
 */
export class InProcessTrainLauncher implements TrainLauncher {
  private readonly queue: string[] = [];
  private running?: { jobId: string; controller: AbortController; done: Promise<void> };
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly run: JobRunner,
    private readonly onError: (jobId: string, error: unknown) => void = (jobId, error) =>
      logger.error('local training job crashed', { jobId, error }),
  ) {}

  async launch(jobId: string): Promise<void> {
    if (this.closed) throw new LaunchError(`The local trainer is shut down; job ${jobId} was not started.`);
    this.queue.push(jobId);
    if (!this.running) setImmediate(() => this.next());
  }

  /** Jobs waiting behind the running one. */
  get pending(): readonly string[] {
    return this.queue;
  }

  get current(): string | undefined {
    return this.running?.jobId;
  }

  /** Resolves when no job is running or queued. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking jobs, aborts the running one, and runs the queued ones with an aborted signal so each records its end. */
  async close(reason: unknown = new HeadstartError('TrainingAborted', 'The local server shut down before the job finished.')): Promise<void> {
    this.closed = true;
    this.running?.controller.abort(reason);
    for (;;) {
      await this.idle();
      if (!this.running && this.queue.length === 0) return;
    }
  }

  private next(): void {
    if (this.running) return;
    const jobId = this.queue.shift();
    if (jobId === undefined) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((resolve) => resolve());
      return;
    }
    const controller = new AbortController();
    if (this.closed) controller.abort(new HeadstartError('TrainingAborted', 'The local server shut down before the job started.'));
    const done = this.run(jobId, controller.signal).then(
      () => undefined,
      (error: unknown) => this.onError(jobId, error),
    );
    this.running = { jobId, controller, done };
    void done.finally(() => {
      this.running = undefined;
      setImmediate(() => this.next());
    });
  }
}
