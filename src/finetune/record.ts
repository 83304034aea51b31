import type { EpochLog } from '../heads/types.js';
import { jobKey, noProgress, progressOf, writeJob } from '../jobs/records.js';
import { jobErrorOf } from '../jobs/job-error.js';
import { readJson } from '../util/json.js';
import type { ObjectStore } from '../store/index.js';
import type { FinetuneJobRecord, FinetuneRequest } from './types.js';

/**
 * Keeps `jobs/<jobId>.json` of a fine-tuning job up to date: running with its progress after every
 * epoch, then succeeded (with the model id) or failed (with an error a person can act on). A job run
 * again (resumed) keeps its creation time and its history so far.
 */
export class FinetuneJobRecorder {
  /** Within an epoch, progress is written at most this often (it keeps the record fresh, see presentJob). */
  static readonly HEARTBEAT_MS = 30_000;
  private lastWrite = 0;

  private constructor(
    private readonly store: ObjectStore,
    private job: FinetuneJobRecord,
  ) {}

  /** The job's record as stored, or undefined. */
  static read(store: ObjectStore, jobId: string): Promise<FinetuneJobRecord | undefined> {
    return readJson<FinetuneJobRecord>(store, jobKey(jobId));
  }

  /** Marks the job running (creating its record when the caller did not). */
  static async start(store: ObjectStore, jobId: string, request: FinetuneRequest, epochs: number): Promise<FinetuneJobRecorder> {
    const previous = await FinetuneJobRecorder.read(store, jobId);
    const now = new Date().toISOString();
    const job: FinetuneJobRecord = {
      jobId,
      kind: 'finetune',
      status: 'running',
      request,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
      startedAt: now,
      finishedAt: null,
      progress: previous?.progress ?? noProgress(epochs),
      history: previous?.history ?? [],
    };
    const recorder = new FinetuneJobRecorder(store, job);
    await recorder.write();
    return recorder;
  }

  get record(): FinetuneJobRecord {
    return this.job;
  }

  /** The history the job resumed with (from its checkpoint) and the epoch it resumes after. */
  async resumed(history: EpochLog[], epochs: number): Promise<void> {
    this.job = { ...this.job, history, resumedFromEpoch: history.length };
    const last = history[history.length - 1];
    if (last) this.job.progress = progressOf(last, epochs);
    await this.write();
  }

  /** Batches done in the running epoch; written when the last write is HEARTBEAT_MS old. */
  async batch(batch: number, batches: number): Promise<void> {
    this.job = { ...this.job, progress: { ...this.job.progress, batch, batches } };
    if (Date.now() - this.lastWrite >= FinetuneJobRecorder.HEARTBEAT_MS) await this.write();
  }

  async epoch(log: EpochLog, epochs: number): Promise<void> {
    this.job = { ...this.job, history: [...this.job.history, log], progress: progressOf(log, epochs) };
    await this.write();
  }

  async succeeded(modelId: string): Promise<void> {
    this.job = { ...this.job, status: 'succeeded', modelId, error: undefined, finishedAt: new Date().toISOString() };
    await this.write();
  }

  async failed(error: unknown): Promise<void> {
    this.job = { ...this.job, status: 'failed', error: jobErrorOf(error, this.job.jobId), finishedAt: new Date().toISOString() };
    await this.write();
  }

  private write(): Promise<void> {
    this.lastWrite = Date.now();
    return writeJob(this.store, this.job);
  }
}

