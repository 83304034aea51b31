/**
 * Fine-tuning: the pretrained base as weight initialisation, its top layers trained together with the
 * head at a low learning rate (BatchNormalization kept in inference mode), from images, as a resumable
 * job that publishes to `models/finetuned/<id>/` (TF.js layers + ONNX).
 */
export { runFinetuneJob, type FinetuneJobOptions } from './job.js';
export { resolveFinetuneRequest, resolveAugment, FINETUNE_DEFAULTS, DEFAULT_AUGMENT } from './request.js';
export { resolveUnfreeze, blockPrefixes, type UnfreezePlan } from './unfreeze.js';
export { FinetuneNetwork, type ForwardOptions } from './network.js';
export { FinetuneTrainer, type OptimizerState } from './trainer.js';
export { freshHead, headFromRegistry, HEAD_LAYER_PREFIX, type HeadLayers } from './head.js';
export { augmentPixels, drawAugment, transformPixels, type AugmentDraw } from './augment.js';
export { finetunedNamespaceDigest, layerWeightsOf, baseLayers } from './namespace.js';
export { publishFinetuned, loadFinetuned, type FinetunedDraft, type LoadedFinetuned } from './publish.js';
export { getFinetuned, readFinetunedPointer, readFinetunedFile, listFinetuned, deleteFinetuned } from './read.js';
export { loadCheckpoint, saveCheckpoint, deleteCheckpoint, type Checkpoint, type CheckpointState } from './checkpoint.js';
export { FINETUNED_FILES, FINETUNED_POINTER, FINETUNED_PREFIX, checkpointPrefix, finetunedKey, finetunedPointerKey, newFinetunedId, validateFinetunedId } from './keys.js';
export { conv2dFilterGrad, conv2dInputGrad, depthwiseFilterGrad, depthwiseInputGrad, hasNativeConvGradients } from './conv-grad.js';
export * from './errors.js';
export * from './types.js';
export { openFinetunedPipeline, type FinetunedPipeline, type FinetunedPipelineOptions } from './serve.js';
