/** The ONNX Runtime engine: TF.js layers models exported to ONNX and run with onnxruntime-node. */
export { exportToOnnx, findUnsupportedLayers, EXPORTER_VERSION, SUPPORTED_OPSETS, type ExportOptions } from './export.js';
export { SUPPORTED_LAYERS } from './converters/index.js';
export { SUPPORTED_ACTIVATIONS } from './converters/activation.js';
export { exportCached, type CachedExport, type ExportCacheOptions } from './cache.js';
export { OnnxModel, type OnnxRunResult, type OnnxSessionOptions, type OnnxTensorInfo } from './session.js';
export { loadExternalOnnx, type ExternalOnnxExtractor, type ExternalOnnxOptions } from './external.js';
export { OnnxExtractor, createOnnxExtractor, type OnnxExtractorOptions, type OnnxExtractorSettings } from './extractor.js';
export { loadOnnxRuntime, onnxRuntimeAvailable } from './runtime.js';
export { EngineUnavailableError, OnnxModelError, UnsupportedLayerError, type UnsupportedLayer } from './errors.js';
export { samePadding } from './padding.js';
