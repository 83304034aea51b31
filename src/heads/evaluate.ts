import type { tf } from '../engine/backend.js';
import { DimensionMismatchError } from './errors.js';
import { checkTrainData, encodeLabels } from './dataset.js';
import { computeMetrics } from './metrics.js';
import { predictHead } from './predict.js';
import type { HeadMetrics, TrainData } from './types.js';

/**
 * Accuracy, loss, per-class precision/recall/F1 and the confusion matrix of a head on held-out data.
 * `labels` is the head's class list (its output order, as trainHead returned it).
 */
export function evaluateHead(model: tf.LayersModel, data: TrainData, labels: string[]): HeadMetrics {
  const numClasses = model.outputs[0].shape[1] as number;
  if (labels.length !== numClasses) {
    throw new DimensionMismatchError(`evaluateHead: the head has ${numClasses} outputs but ${labels.length} labels were given.`);
  }
  checkTrainData(data, 'evaluation data');
  const truth = encodeLabels(data.labels, labels, 'evaluation data');
  const probs = predictHead(model, data.features, data.dim);
  return computeMetrics(probs, truth, labels);
}
