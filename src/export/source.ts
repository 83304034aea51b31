import { tf } from '../engine/backend.js';
import { HeadstartError } from '../errors.js';
import { imagenetLabel, IMAGENET_CLASS_COUNT } from '../classify/decode.js';
import { loadFinetuned } from '../finetune/publish.js';
import { loadHead } from '../registry/load.js';
import type { ObjectStore } from '../store/index.js';
import { syncWeightsFromStore } from '../weights/bucket.js';
import { loadModel } from '../weights/index.js';
import { featureExtractor, getModelSpec, MODEL_IDS } from '../zoo/index.js';
import type { Interpolation, PreprocessMode } from '../zoo/types.js';
import { ExportBaseMismatchError, ExportModelNotFoundError } from './errors.js';

/** What an export is made of: a network on preprocessed images, an optional head on its features, and how images go in. */
export interface ExportSource {
  id: string;
  kind: 'classifier' | 'head' | 'finetuned';
  /** The zoo model underneath, e.g. 'densenet121'. */
  model: string;
  weightsDigest: string;
  /** preprocess_input'ed images [N, H, W, 3] → features (a head's base) or class probabilities. */
  network: tf.LayersModel;
  /** features → class probabilities; absent when `network` gives them. */
  head?: tf.LayersModel;
  /** Class names in output order. */
  labels: string[];
  input: { size: [height: number, width: number]; preprocess: PreprocessMode; interpolation: Interpolation };
  /** Frees every model above. */
  dispose(): void;
}

export interface SourceOptions {
  /** The weights cache ($HEADSTART_HOME) a base loads from; filled from the bucket's weights/ when it lacks them. */
  home?: string;
}

const notFound = (error: unknown, code: string): boolean => error instanceof HeadstartError && error.code === code;

/**
 * The models behind `id`: a published head (with its base, the weights it was trained on), a published
 * fine-tuned model, else a zoo model's ImageNet classifier. The caller owns the result (`dispose()`).
 * @throws ExportModelNotFoundError, ExportBaseMismatchError, WeightsUnavailableError
 */
export async function openExportSource(store: ObjectStore | undefined, id: string, options: SourceOptions = {}): Promise<ExportSource> {
  if (store) {
    try {
      return await headSource(store, id, options);
    } catch (error) {
      if (!notFound(error, 'HeadNotFound') && !notFound(error, 'InvalidArgument')) throw error;
    }
    try {
      return await finetunedSource(store, id);
    } catch (error) {
      if (!notFound(error, 'FinetunedModelNotFound') && !notFound(error, 'InvalidArgument')) throw error;
    }
  }
  if ((MODEL_IDS as readonly string[]).includes(id)) return classifierSource(store, id, options);
  throw new ExportModelNotFoundError(id, MODEL_IDS);
}

async function classifierSource(store: ObjectStore | undefined, id: string, options: SourceOptions): Promise<ExportSource> {
  const spec = getModelSpec(id);
  if (store && options.home) await syncWeightsFromStore(store, spec.id, 'top', options.home);
  const { model, weightsDigest } = await loadModel(spec.id, { weights: 'imagenet', includeTop: true, home: options.home });
  return {
    id,
    kind: 'classifier',
    model: spec.id,
    weightsDigest: weightsDigest ?? 'random',
    network: model,
    labels: Array.from({ length: IMAGENET_CLASS_COUNT }, (_, i) => imagenetLabel(i)),
    input: { size: [spec.inputSize, spec.inputSize], preprocess: spec.preprocess, interpolation: 'nearest' },
    dispose: () => model.dispose(),
  };
}

async function headSource(store: ObjectStore, id: string, options: SourceOptions): Promise<ExportSource> {
  const { model: head, head: info } = await loadHead(store, id);
  try {
    const { base } = info;
    const spec = getModelSpec(base.model);
    const pooling = base.pooling ?? null;
    if (options.home) {
      for (const variant of pooling === null ? (['top'] as const) : (['notop', 'top'] as const)) {
        if (await syncWeightsFromStore(store, spec.id, variant, options.home)) break;
      }
    }
    const loaded = await loadModel(spec.id, {
      weights: 'imagenet',
      includeTop: pooling === null,
      pooling,
      // As the feature pipeline builds it: a no-top model at the model's own input size.
      inputShape: pooling === null ? undefined : [spec.inputSize, spec.inputSize, 3],
      home: options.home,
    });
    if (loaded.weightsDigest !== base.weightsDigest) {
      loaded.model.dispose();
      throw new ExportBaseMismatchError(id, `${spec.id}@${base.weightsDigest}`, `${spec.id}@${loaded.weightsDigest ?? 'random'}`);
    }
    const network = pooling === null ? featureExtractor(loaded.model, { layer: base.layer }) : loaded.model;
    return {
      id,
      kind: 'head',
      model: spec.id,
      weightsDigest: base.weightsDigest,
      network,
      head,
      labels: info.labels,
      input: { size: base.inputSize, preprocess: base.preprocess, interpolation: base.interpolation },
      dispose: () => {
        loaded.model.dispose();
        head.dispose();
      },
    };
  } catch (error) {
    head.dispose();
    throw error;
  }
}

async function finetunedSource(store: ObjectStore, id: string): Promise<ExportSource> {
  const { model, config, labels } = await loadFinetuned(store, id);
  return {
    id,
    kind: 'finetuned',
    model: config.base.model,
    weightsDigest: config.finetunedBase.weightsDigest,
    network: model,
    labels,
    input: { ...config.input },
    dispose: () => model.dispose(),
  };
}
