import type * as tf from '@tensorflow/tfjs';
import { buildModel } from '../zoo/index.js';
import { assertModelId, OFFICIAL_WEIGHTS, type OfficialWeightsFile } from './registry.js';

/**
 * What the weights code needs to know about a model: how to build it (to check a file fits), how the
 * official files are called, and which old layer names to accept. The zoo provides one per model id;
 * tests pass small ones.
 */
export interface WeightsTarget {
  /** The model id: the cache folder name and the `--model` of the CLI. */
  id: string;
  /** Builds the model with random weights. The caller disposes it. */
  build(includeTop: boolean): tf.LayersModel;
  files: { top: OfficialWeightsFile; notop: OfficialWeightsFile };
  aliases: Record<string, string>;
}

/** The zoo model `id` with its official Keras weight files. Unknown id: InvalidArgumentError. */
export function zooTarget(id: string): WeightsTarget {
  assertModelId(id);
  const info = OFFICIAL_WEIGHTS[id];
  return {
    id,
    build: (includeTop) => buildModel(id, { includeTop }),
    files: { top: info.top, notop: info.notop },
    aliases: info.aliases,
  };
}
