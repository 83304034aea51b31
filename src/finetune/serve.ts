import { tf } from '../engine/backend.js';
import { createExtractor, engineSettings, openOnnxExtractor, runsOnnx, type EngineName, type Extractor } from '../engine/extractor.js';
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
  const settings = engineSettings({ engine: options.engine, threads: options.threads });
  const common = { model: spec.id, preprocess: config.input.preprocess, interpolation: config.input.interpolation, dtype: 'float32' as const };
  const digest = config.finetunedBase.weightsDigest;
  const classifierNamespace: Omit<FeatureNamespace, 'inputSize'> = { ...common, weightsDigest: digest, layer: config.head.layers.at(-1)!, pooling: null };
  const featuresNamespace: Omit<FeatureNamespace, 'inputSize'> = { ...common, weightsDigest: digest, layer: config.finetunedBase.layer, pooling: config.finetunedBase.pooling };
  const served = async (extractor: Extractor, namespace: Omit<FeatureNamespace, 'inputSize'>): Promise<FinetunedPipeline> => ({
    pipeline: await FeaturePipeline.wrap({ spec, namespace, extractor, batchSize: options.batchSize }),
    modelId,
    labels: config.labels,
    config,
  });

  if (options.output === 'classifier' && (await runsOnnx(settings))) {
    const onnx = await readFinetunedFile(store, pointer, FINETUNED_FILES.onnx);
    return served(await openOnnxExtractor(onnx, { inputSize: config.input.size, outputShape: [config.labels.length] }, settings), classifierNamespace);
  }

  const { model } = await loadFinetuned(store, modelId);
  let target = model;
  try {
    if (options.output === 'features') target = tf.model({ inputs: model.inputs, outputs: model.getLayer(config.finetunedBase.layer).output as tf.SymbolicTensor });
  } catch (error) {
    model.dispose();
    throw error;
  }
  // The extractor takes the model (the features cut shares its layers): ONNX Runtime lets it go, TF.js keeps it.
  const extractor = await createExtractor(target, {
    ...settings,
    cacheDir: headstartHome(options.home),
    cacheKey: `finetuned/${modelId}/${target.layers.at(-1)!.name}`,
    owns: model,
  });
  return served(extractor, options.output === 'classifier' ? classifierNamespace : featuresNamespace);
}
