import { InvalidArgumentError } from '../errors.js';
import { decodeSafetensors } from '../features/format/safetensors.js';
import type { IngestOutcome, IngestRecord } from '../features/ingest-types.js';
import { namespaceId, type FeatureNamespace } from '../features/namespace.js';
import { headTop, predictHead, type LabelScore } from '../heads/predict.js';
import { jobErrorOf } from '../jobs/job-error.js';
import { predictPrefix } from '../jobs/predict-request.js';
import { imageProgressOf, readJob, writeJob } from '../jobs/records.js';
import type { ImageProgress, JobError, PredictFailure, PredictJobRecord } from '../jobs/types.js';
import { featureKey, parseImageKey, predictionResultsKey } from '../layout.js';
import { logger } from '../logger.js';
import { loadHead } from '../registry/load.js';
import type { LoadedHead } from '../registry/types.js';
import type { ObjectInfo, ObjectStore } from '../store/index.js';
import { mapLimit } from '../util/concurrency.js';
import { TrainingAbortedError } from '../heads/errors.js';
import { ModelPredictUnavailableError, PredictHeadBaseError } from './errors.js';
import { cacheStates, type CacheState } from './cached.js';
import type { PendingExtraction } from './extract.js';
import { failureRow, predictionRow, toCsv, toJsonl, type PredictionRow } from './results.js';
import { deliverWebhook, type WebhookOptions } from './webhook.js';

/** Classifies stored images with a whole network (a `model` job): the classify service, locally. */
export interface ImageClassifier {
  /** Per key, in order: its top-k labels, or why it failed. */
  classify(keys: readonly string[], model: string, top: number): Promise<Array<LabelScore[] | { code: string; message: string }>>;
}

/** What a finished job announces: the webhook's body and the EventBridge event's detail. */
export interface PredictSummary {
  jobId: string;
  status: 'succeeded' | 'failed';
  request: PredictJobRecord['request'];
  images: ImageProgress;
  results?: { jsonl: string; csv: string };
  error?: JobError;
  startedAt: string | null;
  finishedAt: string | null;
  imagesPerSecond?: number;
}

/** Publishes completion somewhere besides the webhook (EventBridge in the cloud). Throwing is logged, never fails the job. */
export interface CompletionEvents {
  publish(summary: PredictSummary): Promise<void>;
}

export interface RunPredictOptions {
  /** The service's feature namespace: a head must be trained on it (the cache is this namespace). */
  namespace: FeatureNamespace;
  /** Extracts (and caches) images without features; absent: they fail with 'NotExtracted'. */
  extraction?: PendingExtraction;
  /** Runs `model` jobs; absent: they fail with PredictUnavailable. */
  classifier?: ImageClassifier;
  /** Announces completion (EventBridge in the cloud). */
  events?: CompletionEvents;
  webhook?: WebhookOptions;
  /** Stops between batches; the job then fails with the signal's reason or 'TrainingAborted'. */
  signal?: AbortSignal;
  /** Rows per head pass. @default 2048 */
  headBatch?: number;
  /** Images per classifier call of a `model` job. @default 32 */
  modelBatch?: number;
  /**
   * When a `model` job stops classifying (ms since the epoch, as Date.now()): the images it has not reached
   * fail with 'NotReached', and the job writes its results and ends as usual (the predict function sets it
   * before its 15-minute limit, keeping time to write and announce). @default no limit
   */
  deadline?: number;
  /** Least time between two progress writes. @default 1000 */
  progressEveryMs?: number;
}

/** Failures kept in the job record; every one is in the results files. */
export const PREDICT_FAILURES_KEPT = 100;

/** Feature files read at once in the head pass. */
const READ_CONCURRENCY = 64;

/**
 * Runs a queued batch prediction job: lists the images under its prefix; with a head, images whose
 * features are cached go straight to the head, the others are extracted first through the upload path
 * (and so cached), then the head runs over all of them in batches; with a model, the classifier takes every
 * image. Writes `predictions/<jobId>/results.jsonl` and `results.csv`, records progress, failures (each
 * image fails alone) and the outcome, then announces it (events, the webhook, whose delivery the record
 * keeps). Resolves with the final record; rejects only when the record cannot be read or written. A job
 * that is not queued is returned as it is.
 */
export async function runPredictJob(store: ObjectStore, jobId: string, options: RunPredictOptions): Promise<PredictJobRecord> {
  const queued = await readJob(store, jobId);
  if (queued.kind !== 'predict') throw new InvalidArgumentError(`Job '${jobId}' is a ${queued.kind} job, not a batch prediction job.`);
  if (queued.status !== 'queued') return queued;
  const job: PredictJobRecord = { ...queued, status: 'running', startedAt: new Date().toISOString(), error: undefined, finishedAt: null };
  await writeJob(store, job);
  logger.info('prediction job started', { jobId, request: job.request });
  const run = new PredictRun(store, job, options);
  let done: PredictJobRecord;
  try {
    await run.execute();
    done = await run.finish({ status: 'succeeded' });
  } catch (error) {
    const jobError = jobErrorOf(error, jobId);
    const internal = jobError.code === 'InternalError';
    logger[internal ? 'error' : 'warn']('prediction job failed', { jobId, ...jobError, ...(internal ? { stack: (error as Error)?.stack } : {}) });
    done = await run.finish({ status: 'failed', error: jobError });
  }
  return announce(store, done, options);
}

/** The summary announced for a finished job. */
export function summaryOf(job: PredictJobRecord): PredictSummary {
  return {
    jobId: job.jobId,
    status: job.status === 'succeeded' ? 'succeeded' : 'failed',
    request: job.request,
    images: job.progress.images!,
    ...(job.results ? { results: job.results } : {}),
    ...(job.error ? { error: job.error } : {}),
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    ...(job.imagesPerSecond !== undefined ? { imagesPerSecond: job.imagesPerSecond } : {}),
  };
}

/** Events, then the webhook (its delivery written to the record). */
async function announce(store: ObjectStore, job: PredictJobRecord, options: RunPredictOptions): Promise<PredictJobRecord> {
  const summary = summaryOf(job);
  if (options.events) {
    try {
      await options.events.publish(summary);
    } catch (error) {
      logger.warn('could not publish the prediction job completion event', { jobId: job.jobId, error });
    }
  }
  if (!job.request.webhook) return job;
  const webhook = await deliverWebhook(job.request.webhook, summary, options.webhook);
  logger[webhook.delivered ? 'info' : 'warn']('prediction job webhook', { jobId: job.jobId, ...webhook });
  const withWebhook: PredictJobRecord = { ...job, webhook };
  await writeJob(store, withWebhook);
  return withWebhook;
}

/** An image on its way to a prediction. */
interface Item {
  key: string;
  info: ObjectInfo;
  /** Content hash of its cached features, once known. */
  sha256?: string;
  /** Its features, when they came with the dataset's shards (no file to read). */
  vector?: Float32Array;
  source?: 'cached' | 'extracted';
}

/** One job's state between its phases. */
class PredictRun {
  private readonly rows = new Map<string, PredictionRow>();
  private readonly failures: PredictFailure[] = [];
  private readonly progress: ImageProgress = { phase: 'listing', total: 0, cached: 0, extracted: 0, predicted: 0, failed: 0 };
  private readonly started = performance.now();
  private lastWrite = 0;
  /** Record writes go one after another, so a late progress write never lands over the final record. */
  private writing: Promise<void> = Promise.resolve();
  private results?: { jsonl: string; csv: string };

  constructor(
    private readonly store: ObjectStore,
    private job: PredictJobRecord,
    private readonly options: RunPredictOptions,
  ) {}

  async execute(): Promise<void> {
    const { request } = this.job;
    // The head (or the classifier) first: a job that cannot run at all says so before listing a million keys.
    const head = request.head !== undefined ? await this.loadHead(request.head) : undefined;
    if (request.model !== undefined && !this.options.classifier) throw new ModelPredictUnavailableError(request.model);
    try {
      const images = await this.list(predictPrefix(request));
      this.progress.total = images.length;
      await this.report(true);
      if (head) await this.predictWithHead(head, images);
      else await this.predictWithModel(request.model!, images);
    } finally {
      head?.model.dispose();
    }
    this.progress.phase = 'writing';
    await this.report(true);
    await this.writeResults();
  }

  async finish(outcome: { status: 'succeeded' } | { status: 'failed'; error: JobError }): Promise<PredictJobRecord> {
    const seconds = (performance.now() - this.started) / 1000;
    const done: PredictJobRecord = {
      ...this.job,
      ...outcome,
      progress: imageProgressOf(this.progress, 0),
      finishedAt: new Date().toISOString(),
      failures: this.failures.slice(0, PREDICT_FAILURES_KEPT),
      ...(this.results ? { results: this.results } : {}),
      ...(outcome.status === 'succeeded' && seconds > 0 ? { imagesPerSecond: Math.round((this.progress.total / seconds) * 10) / 10 } : {}),
    };
    await this.write(done);
    logger.info('prediction job finished', { jobId: done.jobId, status: done.status, images: this.progress });
    this.job = done;
    return done;
  }

  private async loadHead(headId: string): Promise<LoadedHead> {
    const loaded = await loadHead(this.store, headId);
    const base = loaded.head.base;
    const service = this.options.namespace;
    if (namespaceId(base) !== namespaceId(service) || (base.pooling ?? null) !== (service.pooling ?? null)) {
      loaded.model.dispose();
      throw new PredictHeadBaseError(headId, base, service);
    }
    return loaded;
  }

  private async list(prefix: string): Promise<Item[]> {
    const items: Item[] = [];
    for await (const info of this.store.listAll(prefix)) {
      if (parseImageKey(info.key)) items.push({ key: info.key, info });
    }
    return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async predictWithHead(head: LoadedHead, items: Item[]): Promise<void> {
    const ns = this.options.namespace;
    // The upload path's own bookkeeping says what is cached (links, and the shards a training run built).
    const states = new Map<string, CacheState>();
    const byDataset = new Map<string, Item[]>();
    for (const item of items) {
      const dataset = parseImageKey(item.key)!.dataset;
      const list = byDataset.get(dataset);
      if (list) list.push(item);
      else byDataset.set(dataset, [item]);
    }
    for (const [dataset, images] of byDataset) {
      for (const [key, state] of await cacheStates(this.store, ns, dataset, images.map((item) => item.info))) states.set(key, state);
    }
    const pending: Item[] = [];
    const ready: Item[] = [];
    for (const item of items) {
      const state = states.get(item.key)!;
      if (state.status === 'cached') {
        ready.push({ ...item, sha256: state.sha256, vector: state.vector, source: 'cached' });
        this.progress.cached++;
      } else if (state.status === 'failed') {
        // Extraction already failed for these bytes (errors/): the same image fails again, alone.
        this.fail(item.key, state.code ?? 'ImageFailed', state.reason ?? 'its extraction failed');
      } else {
        pending.push(item);
      }
    }
    this.throwIfAborted();
    if (pending.length) ready.push(...(await this.extract(pending)));
    this.progress.phase = 'predicting';
    await this.report(true);
    const batch = this.options.headBatch ?? 2048;
    const dim = head.head.inputDim;
    for (let start = 0; start < ready.length; start += batch) {
      this.throwIfAborted();
      await this.headPass(head, ready.slice(start, start + batch), dim);
      await this.report();
    }
  }

  /** Reads one batch's cached features, runs the head once over them, and keeps the rows. */
  private async headPass(head: LoadedHead, items: Item[], dim: number): Promise<void> {
    const ns = this.options.namespace;
    const vectors = await mapLimit(items, READ_CONCURRENCY, async (item) => {
      if (item.vector) return item.vector.length === dim ? item.vector : `has ${item.vector.length} feature values, the head expects ${dim}`;
      try {
        const tensor = decodeSafetensors(await this.store.get(featureKey(ns, item.sha256!))).tensors.features;
        if (!tensor || tensor.data.length !== dim) return `has ${tensor?.data.length ?? 0} feature values, the head expects ${dim}`;
        return tensor.data;
      } catch (error) {
        return `its cached features could not be read (${(error as Error).message})`;
      }
    });
    const good = items.flatMap((item, i) => (typeof vectors[i] === 'string' ? [] : [{ item, vector: vectors[i] as Float32Array }]));
    items.forEach((item, i) => {
      if (typeof vectors[i] === 'string') this.fail(item.key, 'FeaturesUnreadable', `${item.key} ${vectors[i]}.`);
    });
    if (good.length === 0) return;
    const matrix = new Float32Array(good.length * dim);
    good.forEach(({ vector }, r) => matrix.set(vector, r * dim));
    const tops = headTop(predictHead(head.model, matrix, dim), head.head.labels, this.job.request.top ?? 5);
    good.forEach(({ item }, r) => this.predicted(predictionRow(item.key, tops[r]!, item.source!)));
  }

  /** The upload path for what has no features: cached afterwards, whatever this job does next. */
  private async extract(pending: Item[]): Promise<Item[]> {
    this.progress.phase = 'extracting';
    await this.report(true);
    const byKey = new Map(pending.map((item) => [item.key, item]));
    const extracted: Item[] = [];
    const seen = new Set<string>();
    const onOutcome = (outcome: IngestOutcome) => {
      const item = byKey.get(outcome.key);
      if (!item || seen.has(outcome.key)) return;
      seen.add(outcome.key);
      if ((outcome.status === 'extracted' || outcome.status === 'cached') && outcome.sha256) {
        extracted.push({ ...item, sha256: outcome.sha256, source: 'extracted' });
        this.progress.extracted++;
      } else {
        this.fail(outcome.key, outcome.code ?? (outcome.status === 'retry' ? 'ExtractionRetry' : 'ImageFailed'), outcome.reason ?? `extraction ended '${outcome.status}'`);
      }
      // Progress is best effort here; the forced write after the phase surfaces a storage error.
      this.report().catch(() => undefined);
    };
    const extraction = this.options.extraction;
    if (extraction) {
      const records: IngestRecord[] = pending.map((item) => ({ key: item.key, size: item.info.size, etag: item.info.etag }));
      await extraction.extract(records, onOutcome, this.options.signal);
    }
    this.throwIfAborted();
    for (const item of pending) {
      if (!seen.has(item.key)) this.fail(item.key, 'NotExtracted', 'it has no cached features and this runner cannot extract them.');
    }
    return extracted;
  }

  private async predictWithModel(model: string, items: Item[]): Promise<void> {
    this.progress.phase = 'predicting';
    await this.report(true);
    const batch = this.options.modelBatch ?? 32;
    for (let start = 0; start < items.length; start += batch) {
      this.throwIfAborted();
      if (this.options.deadline !== undefined && Date.now() >= this.options.deadline) {
        this.notReached(items.slice(start));
        return;
      }
      const keys = items.slice(start, start + batch).map((item) => item.key);
      const answers = await this.options.classifier!.classify(keys, model, this.job.request.top ?? 5);
      keys.forEach((key, i) => {
        const answer = answers[i]!;
        if (Array.isArray(answer) && answer.length) this.predicted(predictionRow(key, answer, 'model'));
        else if (!Array.isArray(answer)) this.fail(key, answer.code, answer.message);
        else this.fail(key, 'NoPrediction', 'the model answered no labels.');
      });
      await this.report();
    }
  }

  /** Images a time-bound job did not get to: each fails alone, and the message says how to finish them. */
  private notReached(items: readonly Item[]): void {
    const first = items[0]?.key;
    logger.warn('prediction job reached its time limit', { jobId: this.job.jobId, notReached: items.length, first });
    for (const item of items) {
      this.fail(
        item.key,
        'NotReached',
        `the job's time limit came before this image (${items.length} image(s) from ${first} on, in key order, were not classified): POST /predict again on a prefix holding the rest.`,
      );
    }
  }

  private async writeResults(): Promise<void> {
    const rows = [...this.rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const jsonl = predictionResultsKey(this.job.jobId, 'jsonl');
    const csv = predictionResultsKey(this.job.jobId, 'csv');
    await this.store.put(jsonl, toJsonl(rows), { contentType: 'application/x-ndjson' });
    await this.store.put(csv, toCsv(rows), { contentType: 'text/csv' });
    this.results = { jsonl, csv };
  }

  private predicted(row: PredictionRow): void {
    this.rows.set(row.key, row);
    this.progress.predicted++;
  }

  private fail(key: string, code: string, message: string): void {
    this.rows.set(key, failureRow(key, code, message));
    this.failures.push({ key, code, message });
    this.progress.failed++;
  }

  /** Writes the progress at most once per progressEveryMs (always when `force`). */
  private async report(force = false): Promise<void> {
    const now = performance.now();
    if (!force && now - this.lastWrite < (this.options.progressEveryMs ?? 1000)) return;
    this.lastWrite = now;
    const { total, predicted, failed } = this.progress;
    const done = predicted + failed;
    const elapsed = now - this.started;
    const eta = done > 0 && total > done ? (elapsed / done) * (total - done) : null;
    this.job = { ...this.job, progress: imageProgressOf(this.progress, eta) };
    await this.write(this.job);
  }

  private write(job: PredictJobRecord): Promise<void> {
    const next = this.writing.catch(() => undefined).then(() => writeJob(this.store, job));
    this.writing = next;
    return next;
  }

  private throwIfAborted(): void {
    const signal = this.options.signal;
    if (signal?.aborted) throw new TrainingAbortedError('The prediction job was stopped before it finished.', { cause: signal.reason });
  }
}
