import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../src/errors.js';
import { calibrationImages } from '../../src/features/calibration.js';
import { FeaturePipeline } from '../../src/features/pipeline.js';
import type { ObjectStore } from '../../src/store/index.js';
import { readCacheEntry, weightsCacheDir } from '../../src/weights/cache.js';
import type { RuntimeConfig } from './runtime.js';

// The model-running half of the function runtime: only the extract and classify images import it
// (sharp, ONNX Runtime); the API and train zips import runtime.ts alone.

/**
 * Makes sure the weights cache holds the model's weights: a local cache entry wins; else the entry is
 * copied from the bucket's `weights/<model>/<top|notop>/` (what `headstart weights push` or the deploy
 * step put there). Files land under temp names and index.json last, as the cache expects.
 */
export async function syncWeightsFromStore(store: ObjectStore, model: string, variant: 'top' | 'notop', home: string): Promise<boolean> {
  if (await readCacheEntry(model, variant, home)) return true;
  const prefix = `weights/${model}/${variant}/`;
  if (!(await store.exists(`${prefix}index.json`))) return false;
  const dir = weightsCacheDir(model, variant, home);
  await mkdir(dir, { recursive: true });
  for (const name of ['weights.bin', 'index.json']) {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, await store.get(`${prefix}${name}`));
    await rename(tmp, join(dir, name));
  }
  return true;
}

/** Uploads a local cache entry to the bucket so functions can sync it (`headstart weights push`). */
export async function pushWeightsToStore(store: ObjectStore, model: string, variant: 'top' | 'notop', home?: string): Promise<void> {
  const entry = await readCacheEntry(model, variant, home);
  if (!entry) throw new InvalidArgumentError(`No cached ${variant} weights for '${model}': pull or import them first.`);
  const prefix = `weights/${model}/${variant}/`;
  await store.put(`${prefix}weights.bin`, await readFile(entry.weightsPath));
  await store.put(`${prefix}index.json`, await readFile(join(entry.dir, 'index.json')), { contentType: 'application/json' });
}

/** The feature pipeline of this process, built once: weights from the local cache or the bucket. */
export async function pipelineFromConfig(config: RuntimeConfig, store: ObjectStore): Promise<FeaturePipeline> {
  const pooled = config.cut !== undefined && typeof config.cut === 'object' && 'pooling' in config.cut;
  const variants: Array<'top' | 'notop'> = pooled ? ['notop', 'top'] : ['top'];
  for (const variant of variants) {
    if (await syncWeightsFromStore(store, config.model, variant, config.home)) break;
  }
  const calibration = config.calibration === undefined ? undefined : await calibrationImages(config.calibration);
  const pipeline = await FeaturePipeline.create({ model: config.model, cut: config.cut, home: config.home, precision: config.precision ?? 'fp32', calibration });
  await publishWeightsIndex(store, config.model, variants, config.home);
  return pipeline;
}


/**
 * Writes the local weights index to `weights/<model>/<variant>/index.json` when the bucket has none, so the
 * API and the trainer (which never load the model) resolve the same feature namespace as this function.
 */
export async function publishWeightsIndex(store: ObjectStore, model: string, variants: Array<'top' | 'notop'>, home: string): Promise<void> {
  for (const variant of variants) {
    const entry = await readCacheEntry(model, variant, home);
    if (!entry) continue;
    const key = `weights/${model}/${variant}/index.json`;
    if (!(await store.exists(key))) await store.put(key, await readFile(join(entry.dir, 'index.json')), { contentType: 'application/json' });
    return;
  }
}
