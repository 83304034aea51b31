import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { weightsIndexKey, weightsPrefix } from '../layout.js';
import type { ObjectStore } from '../store/index.js';
import { readCacheEntry, weightsCacheDir } from './cache.js';
import type { WeightsVariant } from './types.js';

// The weights cache ↔ the bucket's `weights/<model>/<top|notop>/` (src/layout.ts): `headstart weights push`
// uploads a cache entry; the functions copy it into their cache at cold start.

/**
 * Uploads a local cache entry to the bucket (`headstart weights push`): weights.bin, then index.json, so a
 * reader that sees the index finds the weights. Returns the keys written.
 */
export async function pushWeightsToStore(store: ObjectStore, model: string, variant: WeightsVariant, home?: string): Promise<string[]> {
  const entry = await readCacheEntry(model, variant, home);
  if (!entry) {
    throw new InvalidArgumentError(`No cached ${variant} weights for '${model}': run \`headstart weights pull ${model}${variant === 'notop' ? ' --no-top' : ''}\` or \`headstart weights import\` first.`);
  }
  const weightsKey = `${weightsPrefix(model, variant)}weights.bin`;
  await store.put(weightsKey, await readFile(entry.weightsPath));
  await store.put(weightsIndexKey(model, variant), await readFile(join(entry.dir, 'index.json')), { contentType: 'application/json' });
  return [weightsKey, weightsIndexKey(model, variant)];
}

/**
 * Makes sure the weights cache holds the model's weights: a local cache entry wins; else the entry is
 * copied from the bucket's `weights/<model>/<top|notop>/` (what `headstart weights push` or the deploy
 * step put there). Files land under temp names and index.json last, as the cache expects.
 */
export async function syncWeightsFromStore(store: ObjectStore, model: string, variant: WeightsVariant, home: string): Promise<boolean> {
  if (await readCacheEntry(model, variant, home)) return true;
  if (!(await store.exists(weightsIndexKey(model, variant)))) return false;
  const dir = weightsCacheDir(model, variant, home);
  await mkdir(dir, { recursive: true });
  for (const name of ['weights.bin', 'index.json']) {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, await store.get(`${weightsPrefix(model, variant)}${name}`));
    await rename(tmp, join(dir, name));
  }
  return true;
}

/**
 * Writes the local weights index to `weights/<model>/<variant>/index.json` when the bucket has none, so the
 * API and the trainer (which never load the model) resolve the same feature namespace as the functions that do.
 */
export async function publishWeightsIndex(store: ObjectStore, model: string, variants: readonly WeightsVariant[], home: string): Promise<void> {
  for (const variant of variants) {
    const entry = await readCacheEntry(model, variant, home);
    if (!entry) continue;
    const key = weightsIndexKey(model, variant);
    if (!(await store.exists(key))) await store.put(key, await readFile(join(entry.dir, 'index.json')), { contentType: 'application/json' });
    return;
  }
}
