/**
 * Pretrained weights for the zoo: readers for Keras .h5 files and TF.js layers-model folders, loading
 * by layer name with exact mismatch errors, the official Keras files (name, URL, md5), and the local
 * cache they are converted into once (`$HEADSTART_HOME/weights`).
 */
export type { LayerWeights, WeightArray, WeightsVariant } from './types.js';
export { WeightsFormatError, WeightsIntegrityError, WeightsMismatchError, WeightsUnavailableError, type MismatchDetail } from './errors.js';
export { readTfjsLayersFolder } from './tfjsFolder.js';
export { readKerasH5 } from './kerasH5.js';
export { readWeightsSource } from './source.js';
export { applyPlan, applyWeights, canonicalWeights, planWeights, type ApplyWeightsOptions, type WeightsPlan } from './apply.js';
export { assertModelId, KERAS_WEIGHTS_BASE_URL, OFFICIAL_WEIGHTS, officialWeightsFile, type ModelWeightsInfo, type OfficialWeightsFile } from './registry.js';
export { decodeWeightsFile, encodeWeightsFile, weightsDigest } from './weightsFile.js';
export {
  headstartHome,
  listCachedWeights,
  loadCachedWeights,
  readCacheEntry,
  weightsCacheDir,
  type CachedWeights,
  type WeightsIndex,
  type WeightsSourceInfo,
} from './cache.js';
export { pullWeights, pullWeightsFor, type PullOptions } from './pull.js';
export { importWeights, importWeightsFor, type ImportOptions } from './import.js';
export { loadModel, type LoadedModel, type LoadModelOptions } from './load.js';
export { zooTarget, type WeightsTarget } from './target.js';
