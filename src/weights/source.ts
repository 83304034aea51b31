import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { WeightsFormatError } from './errors.js';
import { readKerasH5 } from './kerasH5.js';
import { readTfjsLayersFolder } from './tfjsFolder.js';
import type { LayerWeights } from './types.js';

/**
 * Reads weights from what a user has: a TF.js layers-model folder (or its model.json), else a Keras
 * .h5 file (weights-only or full model).
 */
export async function readWeightsSource(path: string): Promise<LayerWeights> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (cause) {
    throw new WeightsFormatError(`No weights at '${path}': expected a Keras .h5 file or a TF.js layers-model folder (model.json + shards).`, { cause });
  }
  if (isDirectory || basename(path).endsWith('.json')) return readTfjsLayersFolder(path);
  return readKerasH5(path);
}
