import { initBackend, tf } from '../engine/backend.js';
import { throwIfAborted } from '../heads/engines/abort.js';
import { computeMetrics } from '../heads/metrics.js';
import type { EpochLog } from '../heads/types.js';
import type { ObjectStore } from '../store/index.js';
import { LIBRARY_VERSION } from '../version.js';
import { applyWeights, loadModel } from '../weights/index.js';
import { poolingLayerName, type ModelSpec } from '../zoo/index.js';
import { ActivationSource } from './activations.js';
import { deleteCheckpoint, loadCheckpoint, requestFingerprint, saveCheckpoint, type Checkpoint } from './checkpoint.js';
import { listDatasetImages, splitImages, subsetOf, type ImageSet } from './data.js';
import { freshHead, headFromRegistry } from './head.js';
import { ImageLoader } from './images.js';
import { newFinetunedId } from './keys.js';
import { INITIAL_LOOP_STATE, predictSet, runEpochs, type LoopState } from './loop.js';
import { finetunedNamespaceDigest, layerWeightsOf } from './namespace.js';
import { FinetuneNetwork } from './network.js';
import { publishFinetuned } from './publish.js';
import { assertModelIdFree, getFinetuned } from './read.js';
import { FinetuneJobRecorder } from './record.js';
import { FINETUNE_DEFAULTS, resolveFinetuneRequest } from './request.js';
import { FinetuneTrainer } from './trainer.js';
import type { FinetunedConfig, FinetunedMetricsFile, FinetuneJobRecord, FinetuneRequest, FinetuneResult, ResolvedFinetuneRequest } from './types.js';

export interface FinetuneJobOptions {
  /** Awaited after each epoch, once its checkpoint and progress are written (throwing fails the job). */
  onEpoch?: (log: EpochLog, job: FinetuneJobRecord) => void | Promise<void>;
  /** Stops between batches; the job then fails with TrainingAborted and resumes from its last checkpoint when run again. */
  signal?: AbortSignal;
  /** The weights cache ($HEADSTART_HOME). */
  home?: string;
  /** Host memory for the frozen part's cached outputs. @default 1 GiB */
  cacheBytes?: number;
}

/** The model being trained and what trains it; `dispose()` frees every tensor of both. */
interface Session {
  spec: ModelSpec;
  baseDigest: string | null;
  network: FinetuneNetwork;
  trainer: FinetuneTrainer;
  dispose(): void;
}

async function openSession(store: ObjectStore, request: ResolvedFinetuneRequest, labels: string[], home?: string): Promise<Session> {
  const size = request.inputSize;
  const loaded = await loadModel(request.model, { weights: request.weights, includeTop: false, pooling: 'avg', inputShape: [size, size, 3], home });
  let network: FinetuneNetwork;
  try {
    const featureDim = loaded.model.outputs[0]!.shape[1] as number;
    const head = request.fromHead
      ? await headFromRegistry(store, request.fromHead, { spec: loaded.spec, featureDim, labels })
      : freshHead(labels.length, request);
    network = FinetuneNetwork.create(loaded.model, head, request.unfreeze);
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
  const trainer = new FinetuneTrainer(network, request.learningRate);
  return { spec: loaded.spec, baseDigest: loaded.weightsDigest, network, trainer, dispose: () => (trainer.dispose(), network.dispose()) };
}

/** Loads the checkpoint's weights, optimizer moments and best-epoch snapshot into the session. */
async function restore(session: Session, checkpoint: Checkpoint): Promise<LoopState> {
  applyWeights(session.network.model, checkpoint.weights, { skipMissing: true });
  await session.trainer.setOptimizerState(checkpoint.optimizer);
  if (checkpoint.best) session.trainer.loadSnapshot(checkpoint.best);
  else session.trainer.snapshot();
  return checkpoint.state.loop;
}

/** Every layer whose weights change: the checkpoint keeps them whole (BatchNormalization statistics included). */
function trainingLayers(network: FinetuneNetwork): tf.layers.Layer[] {
  return [...network.plan.trainable, ...network.headLayers];
}

async function checkpointEpoch(store: ObjectStore, jobId: string, modelId: string, request: ResolvedFinetuneRequest, session: Session, state: LoopState): Promise<void> {
  const optimizer = await session.trainer.optimizerState();
  await saveCheckpoint(store, {
    state: { jobId, modelId, fingerprint: requestFingerprint(request), loop: state, optimizerIterations: optimizer.iterations },
    weights: layerWeightsOf(trainingLayers(session.network)),
    optimizer,
    best: state.bestEpoch === state.epoch ? undefined : session.trainer.snapshotWeights(),
  });
}

interface Outcome {
  state: LoopState;
  labels: string[];
  train: ImageSet;
  validation?: ImageSet;
  skipped: { key: string; code: string }[];
  resumedFromEpoch: number;
}

function configOf(jobId: string, modelId: string, request: ResolvedFinetuneRequest, session: Session, outcome: Outcome): Omit<FinetunedConfig, 'format' | 'formatVersion'> {
  const { spec, network } = session;
  const digest = finetunedNamespaceDigest(network.model);
  const layer = poolingLayerName(spec, 'avg');
  const params = network.paramCounts();
  return {
    modelId,
    dataset: request.dataset,
    labels: outcome.labels,
    input: { size: [request.inputSize, request.inputSize], preprocess: spec.preprocess, interpolation: request.interpolation },
    base: { model: spec.id, weights: request.weights, weightsDigest: session.baseDigest },
    finetunedBase: { weightsDigest: digest, layer, pooling: 'avg', namespace: `${spec.id}@${digest}/${layer}` },
    unfreeze: {
      spec: request.unfreeze,
      firstLayer: network.plan.firstLayer,
      trainableLayers: network.plan.trainable.length,
      trainableParams: params.trainable,
      frozenParams: params.frozen,
    },
    head: { fromHead: request.fromHead, layers: network.headLayers.map((l) => l.name) },
    training: {
      request,
      epochs: outcome.state.epoch,
      bestEpoch: outcome.state.bestEpoch,
      rows: { train: outcome.train.keys.length, validation: outcome.validation?.keys.length ?? 0 },
      skipped: outcome.skipped,
      backend: tf.getBackend(),
      durationMs: Math.round(outcome.state.elapsedMs),
      resumedFromEpoch: outcome.resumedFromEpoch,
    },
    library: LIBRARY_VERSION,
    createdAt: new Date().toISOString(),
    jobId,
  };
}

async function finetune(store: ObjectStore, jobId: string, request: ResolvedFinetuneRequest, recorder: FinetuneJobRecorder, options: FinetuneJobOptions): Promise<FinetuneResult> {
  await initBackend();
  const checkpoint = await loadCheckpoint(store, jobId, request);
  const modelId = checkpoint?.state.modelId ?? request.modelId ?? newFinetunedId(request.dataset);
  await assertModelIdFree(store, modelId, jobId);
  const { labels, all } = await listDatasetImages(store, request.dataset);
  const session = await openSession(store, request, labels, options.home);
  try {
    const loader = new ImageLoader(store, { inputSize: [request.inputSize, request.inputSize], interpolation: request.interpolation, preprocess: session.spec.preprocess });
    const skipped = await loader.check(all.keys);
    const bad = new Set(skipped.map((s) => s.key));
    const usable = subsetOf(all, all.keys.flatMap((key, i) => (bad.has(key) ? [] : [i])));
    const { train, validation } = splitImages(usable, labels, request.validationSplit, request.seed);
    const start = checkpoint ? await restore(session, checkpoint) : INITIAL_LOOP_STATE;
    if (checkpoint) await recorder.resumed(start.history, request.epochs);
    const source = new ActivationSource(session.network, loader, { cache: request.cacheFrozen, byteBudget: options.cacheBytes });
    const state = await runEpochs(session.trainer, session.network, source, start, {
      request,
      train,
      validation,
      signal: options.signal,
      onBatch: (batch, batches) => recorder.batch(batch, batches),
      onEpochEnd: async (epochState, log) => {
        await checkpointEpoch(store, jobId, modelId, request, session, epochState);
        await recorder.epoch(log, request.epochs);
        await options.onEpoch?.(log, recorder.record);
      },
    });
    if (state.bestEpoch !== state.epoch) session.trainer.restoreSnapshot();
    const evaluated = validation ?? train;
    const metrics: FinetunedMetricsFile = {
      ...computeMetrics(await predictSet(session.network, source, evaluated, request.batchSize), evaluated.labelIndex, labels),
      evaluatedOn: validation ? 'validation-split' : 'training',
      rows: evaluated.keys.length,
      bestEpoch: state.bestEpoch,
      history: state.history,
    };
    // The last moment a stop request can still keep the model unpublished (and the id still free).
    throwIfAborted(options.signal);
    await assertModelIdFree(store, modelId, jobId);
    const config = configOf(jobId, modelId, request, session, { state, labels, train, validation, skipped, resumedFromEpoch: start.epoch });
    await publishFinetuned(store, { model: session.network.model, config, metrics });
    await deleteCheckpoint(store, jobId);
    return { jobId, modelId, labels, history: state.history, bestEpoch: state.bestEpoch, metrics, config: { format: 'headstart-finetuned', formatVersion: 1, ...config } };
  } finally {
    session.dispose();
  }
}

/** A job that already published: its result, read back (a second delivery of the same job does not train again). */
async function publishedResult(store: ObjectStore, jobId: string): Promise<FinetuneResult | undefined> {
  const job = await FinetuneJobRecorder.read(store, jobId);
  if (job?.status !== 'succeeded' || !job.modelId) return undefined;
  const { config, metrics } = await getFinetuned(store, job.modelId);
  return { jobId, modelId: job.modelId, labels: config.labels, history: metrics.history, bestEpoch: metrics.bestEpoch, metrics, config };
}

/**
 * Fine-tunes a pretrained base with its head on the images of `request.dataset` and publishes the
 * model to `models/finetuned/<modelId>/` (TF.js layers + ONNX). Progress goes to `jobs/<jobId>.json`
 * after every epoch, with a checkpoint under `jobs/<jobId>/checkpoint/`: a job stopped (signal, crash,
 * timeout) and run again with the same id and request resumes after its last complete epoch and
 * finishes as an uninterrupted run would. A job that already succeeded returns its result.
 * Rejects with the error that failed the job, after recording it; every tensor is freed either way.
 */
export async function runFinetuneJob(store: ObjectStore, jobId: string, request: FinetuneRequest, options: FinetuneJobOptions = {}): Promise<FinetuneResult> {
  const done = await publishedResult(store, jobId);
  if (done) return done;
  const epochs = typeof request?.epochs === 'number' ? request.epochs : FINETUNE_DEFAULTS.epochs;
  const recorder = await FinetuneJobRecorder.start(store, jobId, request, epochs);
  try {
    throwIfAborted(options.signal);
    const result = await finetune(store, jobId, resolveFinetuneRequest(request), recorder, options);
    await recorder.succeeded(result.modelId);
    return result;
  } catch (error) {
    await recorder.failed(error);
    throw error;
  }
}
