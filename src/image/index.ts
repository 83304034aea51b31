export { loadImage, DEFAULT_MAX_PIXELS, INTERPOLATIONS, type DecodedImage, type LoadImageOptions } from './load.js';
export { imagesToTensor } from './tensor.js';
export { preprocessInput, preprocessInto, PREPROCESS_MODES } from './preprocess.js';
export { sniffImageFormat, isSupportedImageFormat, type ImageFormat } from './format.js';
export { pilNearestIndices, resizeNearest } from './resize.js';
export * from './errors.js';
