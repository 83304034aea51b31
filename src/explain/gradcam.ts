import { tf } from '../engine/backend.js';
import { InvalidArgumentError } from '../errors.js';
import type { FinetuneNetwork } from '../finetune/network.js';

/** What the network's output is: a classifier loaded without its softmax gives logits; a head gives probabilities. */
export type ExplainOutput = 'logits' | 'probabilities';

export interface GradCamResult {
  /** The explained class (the top one unless asked). */
  classIndex: number;
  /** Every class's probability, in output order. */
  probabilities: Float32Array;
  /** The class activation map, row-major [height, width], scaled to [0, 1] (all zeros when nothing speaks for the class). */
  map: Float32Array;
  height: number;
  width: number;
}

/** log(p + ε): keeps the log of a probability that underflowed finite, with a gradient. */
const LOG_EPSILON = 1e-30;

/**
 * The class score Grad-CAM differentiates (Selvaraju et al. 2017: y^c, before the softmax). From logits, the
 * logit. From probabilities, the centred logit log p_c − mean_j log p_j: a softmax fixes its logits only up to
 * a shift common to all classes, and this is the logit with that shift taken out. Not tidied (runs under tf.grad).
 */
function classScore(output: tf.Tensor2D, classIndex: number, kind: ExplainOutput): tf.Scalar {
  if (kind === 'logits') return tf.squeeze(tf.slice(output, [0, classIndex], [1, 1])) as tf.Scalar;
  const logs = tf.log(tf.add(output, LOG_EPSILON));
  return tf.sub(tf.squeeze(tf.slice(logs, [0, classIndex], [1, 1])), tf.mean(logs)) as tf.Scalar;
}

/**
 * Grad-CAM of one preprocessed image `x` [1, h, w, 3] on a network split at the explained layer: the
 * frozen part (FinetuneNetwork.frozenForward) gives that layer's activations A [1, u, v, k]; the gradient
 * of the class score through the rest (the top, or the pooling and the head) gives each channel's weight
 * α_k = mean over positions of ∂y/∂A_k; the map is ReLU(Σ_k α_k A_k), divided by its maximum. `x` is left
 * alone; every tensor made here is disposed.
 * @throws InvalidArgumentError when `classIndex` is not one of the network's classes
 */
export function gradCam(network: FinetuneNetwork, x: tf.Tensor4D, kind: ExplainOutput, classIndex?: number): GradCamResult {
  if (network.frontier.length !== 1) throw new Error(`gradCam: the network must be cut at one layer, not ${network.frontier.length}.`);
  const classes = network.numClasses;
  if (classIndex !== undefined && !(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < classes)) {
    throw new InvalidArgumentError(`The class to explain must be an integer from 0 to ${classes - 1}, got ${classIndex}.`);
  }
  const [activations] = network.frozenForward(x) as [tf.Tensor4D];
  try {
    const top = (a: tf.Tensor4D) => network.trainableForward([a], { differentiable: true });
    const probabilities = tf.tidy(() => {
      const output = top(activations);
      return kind === 'logits' ? tf.softmax(output) : output;
    });
    const values = Float32Array.from(probabilities.dataSync());
    probabilities.dispose();
    const target = classIndex ?? argMax(values);
    const camTensor = tf.tidy(() => {
      const gradient = tf.grad((a: tf.Tensor) => classScore(top(a as tf.Tensor4D), target, kind))(activations);
      const alpha = tf.mean(gradient, [1, 2], true);
      return tf.relu(tf.sum(tf.mul(activations, alpha), 3)).squeeze([0]);
    });
    const [height, width] = camTensor.shape as [number, number];
    const map = Float32Array.from(camTensor.dataSync());
    camTensor.dispose();
    return { classIndex: target, probabilities: values, map: scaleToUnit(map), height, width };
  } finally {
    activations.dispose();
  }
}

function argMax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Divides by the maximum, in place; a map without a positive value stays zeros. */
function scaleToUnit(map: Float32Array): Float32Array {
  let max = 0;
  for (const v of map) if (v > max) max = v;
  if (max > 0) for (let i = 0; i < map.length; i++) map[i]! /= max;
  return map;
}
