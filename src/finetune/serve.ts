import { tf } from '../engine/backend.js';
import { createExtractor, parseEngine, type EngineName, type Extractor } from '../engine/extractor.js';
import { OnnxExtractor } from '../engine/onnx/extractor.js';
import { onnxRuntimeAvailable } from '../engine/onnx/runtime.js';
import { OnnxModel } from '../engine/onnx/session.js';
import { FeaturePipeline, type FeatureNamespace } from '../features/pipeline.js';
import type { ObjectStore } from '../store/index.js';
import { headstartHome } from '../weights/index.js';
import { getModelSpec } from '../zoo/index.js';
import { FINETUNED_FILES } from './keys.js';
import { loadFinetuned } from './publish.js';
import { readFinetunedFile, readFinetunedJson, readFinetunedPointer } from './read.js';
import type { FinetunedConfig } from './types.js';

export interface FinetunedPipelineOptions {
  /** 'classifier': image → the model's class probabilities; 'features': image → the fine-tuned base's pooled features. */
  output: 'classifier' | 'features';
  /** @default HEADSTART_ENGINE or 'auto' (ONNX Runtime when it loads) */
  engine?: EngineName | 'auto';
  /** ONNX Runtime intra-op threads. @default HEADSTART_THREADS, else ORT's choice */
  threads?: number;
  /** Where the features cut's ONNX export is cached ($HEADSTART_HOME). */
  home?: string;
  batchSize?: number;
}

/** A fine-tuned model as a pipeline: images in, class probabilities (in `labels` order) or base features out. */
export interface FinetunedPipeline {
  pipeline: FeaturePipeline;
  modelId: string;
  labels: string[];
  config: FinetunedConfig;
}

/**
 * Opens a published fine-tuned model for serving. The classifier runs the `model.onnx` published with it
 * in ONNX Runtime (checked against its digest; no export at load), or the TF.js model when the engine is
 * 'tfjs' or ORT is not available. The features output cuts the fine-tuned network at its base's global
 * average pooling; its namespace is the model's own (`config.finetunedBase`), never the frozen base's.
 * FinetunedModelNotFoundError when the model is not published.
 */
export async function openFinetunedPipeline(store: ObjectStore, modelId: string, options: FinetunedPipelineOptions): Promise<FinetunedPipeline> {
  // The pointer and config only: serving needs no metrics.
  const pointer = await readFinetunedPointer(store, modelId);
  const config = await readFinetunedJson<FinetunedConfig>(store, pointer, FINETUNED_FILES.config);
  const spec = getModelSpec(config.base.model);
  const engine = parseEngine(options.engine ?? process.env.HEADSTART_ENGINE);
  const threads = options.threads ?? (Number(process.env.HEADSTART_THREADS) || undefined);
  const common = { model: spec.id, preprocess: config.input.preprocess, interpolation: config.input.interpolation, dtype: 'float32' as const };
  const digest = config.finetunedBase.weightsDigest;
  const classifierNamespace: Omit<FeatureNamespace, 'inputSize'> = { ...common, weightsDigest: digest, layer: config.head.layers.at(-1)!, pooling: null };
  const featuresNamespace: Omit<FeatureNamespace, 'inputSize'> = { ...common, weightsDigest: digest, layer: config.finetunedBase.layer, pooling: config.finetunedBase.pooling };
  const wrap = (extractor: Extractor, namespace: Omit<FeatureNamespace, 'inputSize'>, ownedModel?: tf.LayersModel) =>
    FeaturePipeline.wrap({ spec, namespace, extractor, batchSize: options.batchSize, ownedModel });

  if (options.output === 'classifier' && engine !== 'tfjs' && (engine === 'onnx' || (await onnxRuntimeAvailable()))) {
    const onnx = await OnnxModel.create(await readFinetunedFile(store, pointer, FINETUNED_FILES.onnx), { intraOpThreads: threads });
    const extractor = new OnnxExtractor(onnx, { inputSize: config.input.size, outputShape: [config.labels.length] });
    return { pipeline: await wrap(extractor, classifierNamespace), modelId, labels: config.labels, config };
  }

  const { model } = await loadFinetuned(store, modelId);
  let modelDisposed = false;
  try {
    const layer = config.finetunedBase.layer;
    const target = options.output === 'classifier' ? model : tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor });
    const extractor = await createExtractor(target, {
      engine,
      intraOpThreads: threads,
      cacheDir: headstartHome(options.home),
      cacheKey: `finetuned/${modelId}/${target.layers.at(-1)!.name}`,
    });
    // ONNX Runtime holds its own copy of the weights; TF.js runs the model itself, so the pipeline keeps it.
    let owned: tf.LayersModel | undefined = model;
    if (extractor.engine === 'onnx') {
      model.dispose();
      modelDisposed = true;
      owned = undefined;
    }
    const namespace = options.output === 'classifier' ? classifierNamespace : featuresNamespace;
    return { pipeline: await wrap(extractor, namespace, owned), modelId, labels: config.labels, config };
  } catch (error) {
    if (!modelDisposed) model.dispose();
    throw error;
  }
}
