import { initBackend, isBackendFault, resetBackend, tf } from '../engine/backend.js';
import { InvalidArgumentError } from '../errors.js';
import { buildDatasetIndex, type DatasetIndex } from '../features/dataset.js';
import { namespaceId, type FeatureNamespace } from '../features/namespace.js';
import { loadDatasetFeatures } from '../features/shards.js';
import { newHeadId } from '../registry/keys.js';
import { publishHead } from '../registry/publish.js';
import type { EvaluatedOn, HeadMetricsFile } from '../registry/types.js';
import type { ObjectStore } from '../store/index.js';
import { LIBRARY_VERSION } from '../version.js';
import { checkBaseModel } from '../jobs/base.js';
import { jobErrorOf } from '../jobs/job-error.js';
import { asOutOfMemory, checkBackendHeap, checkMemoryBudget, memoryLimitBytes, type TrainingSize } from '../jobs/memory.js';
import { checkTrainingDataset, featureDim, requireImages, trainingLabels } from '../jobs/preflight.js';
import { progressOf, readJob, writeJob } from '../jobs/records.js';
import { parseTrainRequest } from '../jobs/request.js';
import type { JobData, JobRecord, TrainRequest } from '../jobs/types.js';
import { TrainingAbortedError } from './errors.js';
import { resolveHeadSpec } from './spec.js';
import { isAutoSpec, resolveAutoSpec } from './auto/spec.js';
import { trainAutoHead } from './auto/select.js';
import type { AutoTrainedHead, ResolvedAutoHeadSpec, SearchProgress } from './auto/types.js';
import { toHeadSet } from './dataset.js';
import { computeMetrics } from './metrics.js';
import { denseLayers } from './model.js';
import { predictHead } from './predict.js';
import { trainHead } from './train.js';
import type { EpochLog, HeadSpec, ResolvedHeadSpec, TrainData, TrainedHead } from './types.js';
import { logger } from '../logger.js';

export interface RunJobOptions {
  /** The service's feature namespace: the only features a head trains on (functions/shared `namespaceFor`). */
  namespace: FeatureNamespace;
  /** Stops training between batches; the job then fails with the signal's reason (a HeadstartError's code) or 'TrainingAborted'. */
  signal?: AbortSignal;
  /** Memory this process may use. @default the Lambda's memory size, else the machine's */
  memoryLimitBytes?: number;
  /** Called after each epoch's progress is written (observers; throwing fails the job like a crash would). */
  onEpoch?: (log: EpochLog, job: JobRecord) => void | Promise<void>;
}

/**
 * Runs a queued training job to the end: validates the request, checks the dataset (exists, ≥ 2 labels,
 * features for every label, fits in memory), reads the features through the consolidated shards, trains
 * the head (progress in jobs/<jobId>.json after every epoch) and publishes it to the registry.
 * Resolves with the final record, `succeeded` with a headId or `failed` with an error a person can act on;
 * rejects only when the job record itself cannot be read or written. A job that is not queued (already
 * run, or a second delivery of the same invocation) is returned as it is.
 */
export async function runTrainingJob(store: ObjectStore, jobId: string, options: RunJobOptions): Promise<JobRecord> {
  const queued = await readJob(store, jobId);
  if (queued.kind !== 'train') {
    throw new InvalidArgumentError(
      `Job '${jobId}' is a ${queued.kind} job: the train function runs head training only; fine-tuning runs as \`headstart finetune --job ${jobId}\` (the GPU batch job).`,
    );
  }
  if (queued.status !== 'queued') return queued;
  const job: JobRecord = { ...queued, status: 'running', startedAt: new Date().toISOString() };
  await writeJob(store, job);
  logger.info('training job started', { jobId, dataset: job.request.dataset });
  try {
    const headId = await trainAndPublish(store, job, options);
    return await finish(store, job, { status: 'succeeded', headId });
  } catch (error) {
    await restartBackendAfterFault(error, jobId);
    const jobError = jobErrorOf(error, jobId);
    // Our faults get their stack in the log (never in the record the API shows); the caller's do not need one.
    const internal = jobError.code === 'InternalError';
    logger[internal ? 'error' : 'warn']('training job failed', { jobId, ...jobError, ...(internal ? { stack: (error as Error)?.stack } : {}) });
    return finish(store, job, { status: 'failed', error: jobError });
  }
}

/**
 * A fault of the backend itself (a wasm trap when its heap ran out mid-kernel) leaves it unusable: without a
 * restart every later job of this process (a warm train function, the local server) and every head
 * prediction fails the same way. The job fails with its own error; the next one gets a fresh backend.
 */
async function restartBackendAfterFault(error: unknown, jobId: string): Promise<void> {
  const fault = [error, (error as { cause?: unknown } | undefined)?.cause].find(isBackendFault) as Error | undefined;
  if (!fault) return;
  const backend = await resetBackend();
  logger.warn('TF.js backend restarted after a fault', { jobId, backend, fault: `${fault.name}: ${fault.message}` });
}

async function finish(store: ObjectStore, job: JobRecord, outcome: Pick<JobRecord, 'status' | 'headId' | 'error'>): Promise<JobRecord> {
  const done: JobRecord = { ...job, ...outcome, finishedAt: new Date().toISOString() };
  await writeJob(store, done);
  logger.info('training job finished', { jobId: job.jobId, status: done.status, headId: done.headId });
  return done;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TrainingAbortedError('Training was stopped before it finished.', { cause: signal.reason });
}

interface PreparedData {
  train: TrainData;
  validation?: TrainData;
  size: TrainingSize;
  skipped: JobData['skipped'];
}

/** Index, checks and memory budget first (cheap, actionable), then the features through the shards. */
async function prepareData(store: ObjectStore, request: TrainRequest, hidden: readonly number[], options: RunJobOptions): Promise<PreparedData> {
  const ns = options.namespace;
  const index = await buildDatasetIndex(store, ns, request.dataset);
  const labels = await checkTrainingDataset(store, index);
  let validationIndex: DatasetIndex | undefined;
  if (request.validationDataset) {
    validationIndex = await buildDatasetIndex(store, ns, request.validationDataset);
    await requireImages(store, validationIndex);
  }
  const rows = extractedRows(index) + (validationIndex ? extractedRows(validationIndex) : 0);
  const size: TrainingSize = { rows, dim: await featureDim(store, ns, index), classes: labels.length, hidden };
  checkMemoryBudget(size, options.memoryLimitBytes ?? memoryLimitBytes());
  checkBackendHeap(size, tf.getBackend(), tf.memory().numBytes);
  try {
    const train = await loadDatasetFeatures(store, ns, request.dataset, index);
    const validation = validationIndex ? await loadDatasetFeatures(store, ns, validationIndex.dataset, validationIndex) : undefined;
    return { train, validation, size, skipped: { pending: index.totals.pending, failed: index.totals.failed } };
  } catch (error) {
    throw asOutOfMemory(error, 'loading', size);
  }
}

function extractedRows(index: DatasetIndex): number {
  return trainingLabels(index).reduce((sum, label) => sum + index.labels[label]!.extracted, 0);
}

async function trainAndPublish(store: ObjectStore, job: JobRecord, options: RunJobOptions): Promise<string> {
  throwIfAborted(options.signal);
  const request = parseTrainRequest(job.request);
  checkBaseModel(request, options.namespace);
  const head = request.head ?? 'auto';
  const auto = isAutoSpec(head) ? resolveAutoSpec(head) : undefined;
  const spec = auto ? undefined : resolveHeadSpec(head as HeadSpec);
  await initBackend();
  // The widest head the job may train: the explicit one, or the widest MLP candidate.
  const hidden = spec ? spec.hidden : auto!.mlpUnits.length ? [Math.max(...auto!.mlpUnits)] : [];
  const data = await prepareData(store, request, hidden, options);
  throwIfAborted(options.signal);
  const started = performance.now();
  const draft = auto ? await trainAuto(store, job, data, auto, options) : await trainExplicit(store, job, data, spec!, options);
  try {
    job.data = { dim: data.train.dim, labels: draft.trained.labels, rows: draft.rows, skipped: data.skipped };
    // The last moment a stop request can still keep the head unpublished.
    throwIfAborted(options.signal);
    const summary = await publishHead(store, {
      model: draft.trained.model,
      info: headInfo(request, job, draft.trained, options.namespace, performance.now() - started),
      metrics: draft.metrics,
    });
    return summary.headId;
  } finally {
    draft.trained.model.dispose();
  }
}

interface Draft {
  trained: TrainedHead | AutoTrainedHead;
  metrics: HeadMetricsFile;
  rows: JobData['rows'];
}

/** An explicit head spec: trained as given, evaluated on the validation split or dataset (or the training rows). */
async function trainExplicit(store: ObjectStore, job: JobRecord, data: PreparedData, spec: ResolvedHeadSpec, options: RunJobOptions): Promise<Draft> {
  let trained: TrainedHead;
  try {
    trained = await trainHead(data.train, spec, {
      validation: data.validation,
      signal: options.signal,
      onEpoch: (log) => recordEpoch(store, job, spec.epochs, log, options),
    });
  } catch (error) {
    throw asOutOfMemory(error, 'training on', data.size);
  }
  const { evaluatedOn, rows } = splitRows(data, trained, spec);
  const metrics: HeadMetricsFile = { ...trained.metrics, evaluatedOn, rows: evaluatedOn === 'training' ? rows.train : rows.validation, bestEpoch: trained.bestEpoch, history: trained.history };
  return { trained, metrics, rows };
}

/**
 * `head: "auto"`: the cross-validated search (its progress in the job record), the refit on every row,
 * the calibration; metrics from the out-of-fold predictions, and a validation dataset, when named,
 * scored by the refit head beside them.
 */
async function trainAuto(store: ObjectStore, job: JobRecord, data: PreparedData, auto: ResolvedAutoHeadSpec, options: RunJobOptions): Promise<Draft> {
  let trained: AutoTrainedHead;
  try {
    trained = await trainAutoHead(data.train, auto, {
      signal: options.signal,
      onProgress: (progress) => recordSearch(store, job, progress),
      onEpoch: (log) => recordEpoch(store, job, job.progress.epochs, log, options),
    });
  } catch (error) {
    throw asOutOfMemory(error, 'training on', data.size);
  }
  try {
    const { selection, calibration, evaluation } = trained;
    job.selection = { chosen: selection.chosen, reason: selection.reason, candidates: selection.candidates.map(({ folds: _perFold, ...score }) => score) };
    const metrics: HeadMetricsFile = {
      ...trained.metrics,
      evaluatedOn: 'out-of-fold',
      rows: data.train.labels.length,
      bestEpoch: trained.bestEpoch,
      history: trained.history,
      selection,
      calibration,
      evaluation,
    };
    if (data.validation) {
      const held = toHeadSet(data.validation, trained.labels, 'validation data', data.train.dim);
      const scored = computeMetrics(predictHead(trained.model, held.features, held.dim), held.labelIndex, trained.labels);
      metrics.validation = { ...scored, dataset: job.request.validationDataset!, rows: held.rows };
    }
    return { trained, metrics, rows: { train: data.train.labels.length, validation: data.validation?.labels.length ?? 0 } };
  } catch (error) {
    trained.model.dispose();
    throw error;
  }
}

/** Where the metrics come from and how many rows each side had (the metrics' confusion matrix counts the evaluated rows). */
function splitRows(data: PreparedData, trained: TrainedHead, spec: ResolvedHeadSpec): { evaluatedOn: EvaluatedOn; rows: JobData['rows'] } {
  const total = data.train.labels.length;
  const evaluated = trained.metrics.confusionMatrix.flat().reduce((a, b) => a + b, 0);
  if (data.validation) return { evaluatedOn: 'validation-dataset', rows: { train: total, validation: evaluated } };
  if (spec.validationSplit > 0) return { evaluatedOn: 'validation-split', rows: { train: total - evaluated, validation: evaluated } };
  return { evaluatedOn: 'training', rows: { train: total, validation: 0 } };
}

function headInfo(request: TrainRequest, job: JobRecord, trained: TrainedHead | AutoTrainedHead, ns: FeatureNamespace, durationMs: number) {
  return {
    headId: newHeadId(request.dataset),
    dataset: request.dataset,
    validationDataset: request.validationDataset ?? null,
    labels: trained.labels,
    inputDim: job.data!.dim,
    base: { ...ns, namespace: namespaceId(ns) },
    training: {
      spec: trained.config,
      epochs: trained.history.length,
      bestEpoch: trained.bestEpoch,
      rows: job.data!.rows,
      backend: tf.getBackend(),
      durationMs: Math.round(durationMs),
      ...('selection' in trained ? autoInfo(trained) : {}),
    },
    library: LIBRARY_VERSION,
    createdAt: new Date().toISOString(),
    jobId: job.jobId,
  };
}

/** What head.json keeps of an auto head: the search, and the standardization and temperature folded into the model. */
function autoInfo(trained: AutoTrainedHead) {
  const dense = denseLayers(trained.model);
  return {
    auto: { ...trained.auto, chosen: trained.selection.chosen },
    standardization: { mean: Array.from(trained.standardization.mean), std: Array.from(trained.standardization.std), foldedInto: dense[0]!.name },
    calibration: { ...trained.calibration, foldedInto: dense[dense.length - 1]!.name },
  };
}

/** An auto head's search step in the job's progress (written at once: each step takes a fit). */
async function recordSearch(store: ObjectStore, job: JobRecord, search: SearchProgress): Promise<void> {
  job.progress = { ...job.progress, search, ...(search.phase === 'refit' && search.epochs ? { epochs: search.epochs } : {}) };
  await writeJob(store, job);
}

async function recordEpoch(store: ObjectStore, job: JobRecord, epochs: number, log: EpochLog, options: RunJobOptions): Promise<void> {
  job.history.push(log);
  job.progress = { ...(job.progress.search ? { search: job.progress.search } : {}), ...progressOf(log, epochs) };
  await writeJob(store, job);
  await options.onEpoch?.(log, job);
}
