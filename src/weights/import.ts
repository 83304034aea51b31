import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { writeCacheEntry, type CachedWeights, type WeightsSourceInfo } from './cache.js';
import { fitWeights } from './fit.js';
import { readWeightsSource } from './source.js';
import { zooTarget, type WeightsTarget } from './target.js';
import { variantOf } from './types.js';

export interface ImportOptions {
  /** The zoo model id the weights are for. */
  model: string;
  /** Which variant the file is; detected from its layer names when not given. */
  includeTop?: boolean;
  /** The headstart home (cache root). @default $HEADSTART_HOME, else ~/.cache/headstart */
  home?: string;
}

/**
 * Imports weights a user has (a Keras .h5 file or a TF.js layers-model folder) into the cache slot of
 * a zoo model: with-top or no-top is detected by layer names, the weights are checked against the
 * zoo builder (every layer and shape), then converted and cached. What `headstart weights import` runs.
 */
export async function importWeights(path: string, options: ImportOptions): Promise<CachedWeights> {
  return importWeightsFor(zooTarget(options.model), path, options);
}

/** importWeights for any target (the zoo's, or a test's small model). */
export async function importWeightsFor(target: WeightsTarget, path: string, options: Omit<ImportOptions, 'model'> = {}): Promise<CachedWeights> {
  const source = await readWeightsSource(path);
  const { includeTop, weights } = fitWeights(target, source, options.includeTop);
  return writeCacheEntry(target.id, variantOf(includeTop), weights, await describeSource(resolve(path)), options.home);
}

/** Name and path; for a single file also its md5 and sha256, so an official file can be recognised later. */
async function describeSource(path: string): Promise<WeightsSourceInfo> {
  const info: WeightsSourceInfo = { fileName: basename(path), path };
  if (!(await stat(path)).isFile() || path.endsWith('.json')) return info;
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  for await (const chunk of createReadStream(path)) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  return { ...info, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}
