export { decodePredictions, imagenetLabel, imagenetClassNames, IMAGENET_CLASS_COUNT, type Prediction } from './decode.js';
