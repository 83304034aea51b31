/** The subset of @aws-sdk/client-batch the launchers use (the nodejs22.x runtime ships the SDK). */
export interface BatchSdk {
  BatchClient: new (config: Record<string, unknown>) => { send(command: unknown): Promise<{ jobId?: string; jobName?: string; jobSummaryList?: BatchJobSummary[] }> };
  SubmitJobCommand: new (input: SubmitJobInput) => unknown;
  /** Only the status lookup of fine-tuning jobs uses it. */
  ListJobsCommand?: new (input: { jobQueue: string; filters: Array<{ name: 'JOB_NAME'; values: string[] }> }) => unknown;
}

/** What ListJobs says of one job (https://docs.aws.amazon.com/batch/latest/APIReference/API_JobSummary.html). */
export interface BatchJobSummary {
  jobId?: string;
  jobName?: string;
  status?: string;
  statusReason?: string;
  createdAt?: number;
}

export interface SubmitJobInput {
  jobName: string;
  jobQueue: string;
  jobDefinition: string;
  parameters: Record<string, string>;
  arrayProperties?: { size: number };
}

export interface BatchQueueOptions {
  /** Job queue ARN or name. */
  jobQueue: string;
  /** Job definition ARN or name. */
  jobDefinition: string;
  /** @default import('@aws-sdk/client-batch') */
  loadSdk?: () => Promise<BatchSdk>;
}

/** Kept in a variable so TypeScript and esbuild leave the import to run time (Lambda's runtime provides it). */
const BATCH_SDK = '@aws-sdk/client-batch';

/** Batch job names: up to 128 letters, digits, hyphens and underscores. */
export function batchJobName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128);
}

/**
 * SubmitJob on one queue and definition (https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html),
 * with the SDK loaded and the client made on first use. Failures come back as the caller's error type,
 * with a message that says which route and what was being submitted.
 */
export class BatchSubmitter {
  private client?: { send(command: unknown): Promise<{ jobId?: string; jobSummaryList?: BatchJobSummary[] }> };

  constructor(
    private readonly options: BatchQueueOptions,
    /** The route that needs it, for the message when the SDK is missing ('POST /backfill'). */
    private readonly route: string,
    private readonly fail: (message: string, cause: unknown) => Error,
  ) {}

  /** Submits and returns the Batch job id. */
  async submit(input: Omit<SubmitJobInput, 'jobQueue' | 'jobDefinition'>, what: string): Promise<string> {
    const sdk = await this.sdk();
    this.client ??= new sdk.BatchClient({});
    const command = new sdk.SubmitJobCommand({ ...input, jobQueue: this.options.jobQueue, jobDefinition: this.options.jobDefinition });
    try {
      const response = await this.client.send(command);
      if (!response.jobId) throw new Error('SubmitJob returned no jobId');
      return response.jobId;
    } catch (error) {
      throw this.fail(`AWS Batch did not accept ${what}: ${(error as Error).message}`, error);
    }
  }

  /** The newest job of this queue with that name (ListJobs with a JOB_NAME filter), or undefined. */
  async findByName(jobName: string): Promise<BatchJobSummary | undefined> {
    const sdk = await this.sdk();
    if (!sdk.ListJobsCommand) return undefined;
    this.client ??= new sdk.BatchClient({});
    const { jobSummaryList = [] } = await this.client.send(new sdk.ListJobsCommand({ jobQueue: this.options.jobQueue, filters: [{ name: 'JOB_NAME', values: [jobName] }] }));
    return [...jobSummaryList].sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0))[0];
  }

  private async sdk(): Promise<BatchSdk> {
    try {
      return await (this.options.loadSdk ?? (() => import(BATCH_SDK) as Promise<BatchSdk>))();
    } catch (error) {
      throw this.fail(`${this.route} needs ${BATCH_SDK}, and it could not be loaded: ${(error as Error).message}`, error);
    }
  }
}
