import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { isAutoSpec } from '../heads/auto/spec.js';
import { resolveHeadSpec } from '../heads/spec.js';
import { timestampId } from '../registry/keys.js';
import { readJson, writeJson } from '../util/json.js';
import type { ObjectStore } from '../store/index.js';
import { JobNotFoundError } from './errors.js';
import { jobErrorOf } from './job-error.js';
import type { EpochLog } from '../heads/types.js';
import type { FinetuneJobRecord, FinetuneRequest, ImageProgress, IssuesJobRecord, IssuesRequest, JobProgress, JobRecord, JobStatus, PredictJobRecord, PredictRequest, StoredJob, TrainRequest } from './types.js';
import { jobKey as layoutJobKey, PREFIX } from '../layout.js';

/** `jobs/<jobId>.json` (src/layout.ts). */
export const JOBS_PREFIX = PREFIX.jobs;

const JOB_ID = /^job-\d{8}-\d{6}-[0-9a-f]{8}$/;

export function jobKey(jobId: string): string {
  return layoutJobKey(validateJobId(jobId));
}

/** `job-<YYYYMMDD-HHMMSS>-<8 hex>`: sortable by creation time, unique without coordination. */
export function newJobId(now: Date = new Date()): string {
  return `job-${timestampId(now)}-${randomBytes(4).toString('hex')}`;
}

export function validateJobId(jobId: string): string {
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
    throw new InvalidArgumentError(`Invalid job id ${JSON.stringify(jobId)}: job ids look like 'job-20250101-120000-0123abcd'.`);
  }
  return jobId;
}

/** Progress before the first epoch ends. */
export const noProgress = (epochs: number): JobProgress => ({ epoch: 0, epochs, loss: null, accuracy: null, valLoss: null, valAccuracy: null, etaMs: null });

/** Progress once an epoch has ended, from its log: both job kinds record it this way. */
export function progressOf(log: EpochLog, epochs: number): JobProgress {
  return {
    epoch: log.epoch,
    epochs,
    loss: log.loss,
    accuracy: log.accuracy,
    valLoss: log.valLoss ?? null,
    valAccuracy: log.valAccuracy ?? null,
    etaMs: Math.round(log.etaMs),
  };
}

/** The fields every new queued job has, whatever its kind. */
function queuedFields(epochs: number, now: Date) {
  return {
    jobId: newJobId(now),
    status: 'queued' as const,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    startedAt: null,
    finishedAt: null,
    progress: noProgress(epochs),
    history: [],
  };
}

/** A prediction job's progress: the epoch fields stay 0, `images` says where the images stand. */
export function imageProgressOf(images: ImageProgress, etaMs: number | null = null): JobProgress {
  return { ...noProgress(0), etaMs: etaMs === null ? null : Math.round(etaMs), images: { ...images } };
}

/** A new queued job for a validated request. */
export function queuedJob(request: TrainRequest, now: Date = new Date()): JobRecord {
  // An auto head's epochs are only known once the folds have chosen: 0 until the refit starts.
  const epochs = request.head === undefined || isAutoSpec(request.head) ? 0 : resolveHeadSpec(request.head).epochs;
  return { ...queuedFields(epochs, now), kind: 'train', request };
}

/** A new queued fine-tuning job; `epochs` is the request's, defaults applied (the core's FINETUNE_DEFAULTS). */
export function queuedFinetuneJob(request: FinetuneRequest, epochs: number, now: Date = new Date()): FinetuneJobRecord {
  return { ...queuedFields(epochs, now), kind: 'finetune', request };
}

/** A new queued batch prediction job. */
export function queuedPredictJob(request: PredictRequest, now: Date = new Date()): PredictJobRecord {
  const fields = queuedFields(0, now);
  return { ...fields, progress: imageProgressOf({ phase: 'listing', total: 0, cached: 0, extracted: 0, predicted: 0, failed: 0 }), kind: 'predict', request };
}

/** Writes a queued batch prediction job and returns it. */
export async function createPredictJob(store: ObjectStore, request: PredictRequest, now?: Date): Promise<PredictJobRecord> {
  const job = queuedPredictJob(request, now);
  await writeJob(store, job);
  return job;
}

/** A new queued dataset issues job (GET /datasets/{name}/issues above the synchronous limit). */
export function queuedIssuesJob(request: IssuesRequest, cacheKey: string, now: Date = new Date()): IssuesJobRecord {
  const fields = queuedFields(0, now);
  return { ...fields, progress: { ...fields.progress, issues: { phase: 'queued', images: 0 } }, kind: 'issues', request, cacheKey };
}

/** Writes a queued dataset issues job and returns it. */
export async function createIssuesJob(store: ObjectStore, request: IssuesRequest, cacheKey: string, now?: Date): Promise<IssuesJobRecord> {
  const job = queuedIssuesJob(request, cacheKey, now);
  await writeJob(store, job);
  return job;
}

/** Writes a queued job for the request and returns it: GET /jobs/{id} answers from the moment POST /train does. */
export async function createJob(store: ObjectStore, request: TrainRequest, now?: Date): Promise<JobRecord> {
  const job = queuedJob(request, now);
  await writeJob(store, job);
  return job;
}

/** Writes a queued fine-tuning job and returns it. */
export async function createFinetuneJob(store: ObjectStore, request: FinetuneRequest, epochs: number, now?: Date): Promise<FinetuneJobRecord> {
  const job = queuedFinetuneJob(request, epochs, now);
  await writeJob(store, job);
  return job;
}

/** `jobs/<jobId>.json` of either kind; JobNotFoundError when there is none. */
export async function readJob(store: ObjectStore, jobId: string): Promise<StoredJob> {
  const job = await readJson<StoredJob>(store, jobKey(jobId));
  if (!job) throw new JobNotFoundError(jobId);
  return job;
}

/** Writes the record, stamping `updatedAt` on the object given (callers keep the stored version). */
export function writeJob(store: ObjectStore, job: StoredJob): Promise<void> {
  job.updatedAt = new Date().toISOString();
  return writeJson(store, jobKey(job.jobId), job);
}

/**
 * A running job whose record has not changed for this long lost its trainer: the train function's limit
 * is 15 minutes and a running job writes after every epoch, so only a killed process (out of memory, a
 * hard timeout) goes this quiet.
 */
export const STALE_RUNNING_MS = 20 * 60 * 1000;

/**
 * The job as callers should see it: a running job that went quiet for STALE_RUNNING_MS is shown as failed
 * ('TrainerLost'); nothing else changes. The stored record is left alone (a GET does not write).
 */
export function presentJob<T extends StoredJob>(job: T, now: Date = new Date()): T {
  const quietMs = now.getTime() - Date.parse(job.updatedAt ?? job.startedAt ?? job.createdAt);
  if (job.status !== 'running' || !(quietMs > STALE_RUNNING_MS)) return job;
  if (job.kind === 'predict') {
    const images = job.progress.images;
    const at = images ? `while ${images.phase} (${images.predicted} of ${images.total} images predicted)` : 'before it listed its images';
    const message =
      `The prediction job stopped ${at} and has not reported for ${Math.round(quietMs / 60000)} minutes: its function was killed ` +
      '(out of memory or its time limit). POST /predict again: features extracted so far are cached, so a rerun only does the rest.';
    return { ...job, status: 'failed', error: { code: 'TrainerLost', message } };
  }
  if (job.kind === 'issues') {
    const message =
      `The dataset issues job stopped while computing and has not reported for ${Math.round(quietMs / 60000)} minutes: its function was killed ` +
      `(out of memory or its time limit). GET /datasets/${job.request.dataset}/issues again starts a new one, or run 'headstart issues ${job.request.dataset}'.`;
    return { ...job, status: 'failed', error: { code: 'TrainerLost', message } };
  }
  const search = job.progress.search;
  const at =
    search?.phase === 'cross-validation'
      ? `during cross-validation (candidate ${search.candidate} of ${search.candidates}, fold ${search.fold} of ${search.folds})`
      : job.progress.epoch
        ? `after epoch ${job.progress.epoch} of ${job.progress.epochs}`
        : search
          ? `during the ${search.phase} of ${search.name}`
          : 'before its first epoch ended';
  const quiet = `has not reported for ${Math.round(quietMs / 60000)} minutes`;
  const message =
    job.kind === 'finetune'
      ? `The fine-tuning worker stopped ${at} and ${quiet}: it was killed (out of memory, its time limit, or the machine went away). ` +
        `POST /jobs/${job.jobId}/resume continues from the last complete epoch.`
      : `The trainer stopped ${at} and ${quiet}: it was killed, ` +
        "most likely out of memory (raise the train function's memory, trainMemoryMb) or at its time limit (fewer epochs). Start a new job.";
  return { ...job, status: 'failed', error: { code: 'TrainerLost', message } };
}

/**
 * Records a job that never got to run as failed (the launcher or the trainer's setup failed), so it does
 * not stay queued for ever. A job in any other status is left to its runner, unless `from` names it too
 * (a local worker process that died before recording its end fails its 'running' job this way).
 */
export async function failJob(store: ObjectStore, jobId: string, error: unknown, from: readonly JobStatus[] = ['queued']): Promise<StoredJob> {
  const job = await readJob(store, jobId);
  if (!from.includes(job.status)) return job;
  const failed: StoredJob = { ...job, status: 'failed', finishedAt: new Date().toISOString(), error: jobErrorOf(error, jobId) };
  await writeJob(store, failed);
  return failed;
}
