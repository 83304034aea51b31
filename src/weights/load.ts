import type * as tf from '@tensorflow/tfjs';
import { getModelSpec, validateZooOptions, type ModelSpec, type ZooOptions } from '../zoo/index.js';
import { applyPlan, canonicalWeights, planWeights } from './apply.js';
import { loadCachedWeights, readCacheEntry, type CachedWeights } from './cache.js';
import type { DownloadOptions } from './download.js';
import { pullWeights } from './pull.js';
import { OFFICIAL_WEIGHTS } from './registry.js';
import { readWeightsSource } from './source.js';
import type { LayerWeights } from './types.js';
import { weightsDigest } from './weightsFile.js';

export interface LoadModelOptions extends ZooOptions, DownloadOptions {
  /**
   * 'imagenet' (the official Keras weights, from the cache, pulled on first use), a path to a Keras .h5
   * file or TF.js layers-model folder (loaded as is, not cached), or null (random). @default 'imagenet', as Keras
   */
  weights?: 'imagenet' | string | null;
  /** The headstart home (cache root). @default $HEADSTART_HOME, else ~/.cache/headstart */
  home?: string;
  /** A mirror of the official files, see PullOptions.baseUrl. */
  baseUrl?: string;
}

export interface LoadedModel {
  /** The caller owns it (`model.dispose()`). */
  model: tf.LayersModel;
  /** First 16 hex chars of the sha256 of the converted weights; null for random weights. */
  weightsDigest: string | null;
  spec: ModelSpec;
}

/**
 * A zoo model with weights, as a Keras Applications call with `weights=`: Keras' argument rules apply
 * (e.g. 'imagenet' with the top needs classes 1000) and are checked before anything is downloaded.
 */
export async function loadModel(id: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const spec = getModelSpec(id);
  const { weights = 'imagenet', home, baseUrl, fetch, connectTimeoutMs, idleTimeoutMs, ...zoo } = options;
  const resolved = validateZooOptions(spec, { ...zoo, weights });
  if (weights === null) return { model: spec.build({ ...zoo, weights: null }), weightsDigest: null, spec };
  const source = weights === 'imagenet' ? await imagenetWeights(spec, resolved.includeTop, { home, baseUrl, fetch, connectTimeoutMs, idleTimeoutMs }) : await fileWeights(weights);
  const model = spec.build({ ...zoo, weights });
  try {
    const plan = planWeights(model, source.weights, { aliases: OFFICIAL_WEIGHTS[spec.id].aliases });
    // A file loaded as is gets the digest an import of it for this variant would have (same canonical bytes).
    const digest = source.digest ?? weightsDigest(canonicalWeights(plan));
    applyPlan(plan);
    return { model, weightsDigest: digest, spec };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

interface WeightsWithDigest {
  weights: LayerWeights;
  /** Known for cache entries; computed from the canonical weights for files loaded as is. */
  digest: string | null;
}

/**
 * The cached official weights, pulled when missing. No-top without a no-top entry but with a with-top
 * one: the with-top weights are used (loading by name skips the classifier), which is what a user who
 * has imported only one file expects; the digest is then the with-top file's.
 */
async function imagenetWeights(spec: ModelSpec, includeTop: boolean, options: { home?: string } & DownloadOptions & { baseUrl?: string }): Promise<WeightsWithDigest> {
  let entry: CachedWeights | undefined = await readCacheEntry(spec.id, includeTop ? 'top' : 'notop', options.home);
  if (!entry && !includeTop) entry = await readCacheEntry(spec.id, 'top', options.home);
  entry ??= await pullWeights(spec.id, { ...options, includeTop });
  return { weights: await loadCachedWeights(entry), digest: entry.index.digest };
}

async function fileWeights(path: string): Promise<WeightsWithDigest> {
  return { weights: await readWeightsSource(path), digest: null };
}
