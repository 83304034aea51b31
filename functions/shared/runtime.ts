import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../src/errors.js';
import { FeaturePipeline, type FeatureCut } from '../../src/features/pipeline.js';
import { createS3Client, S3Store, type ObjectStore } from '../../src/store/index.js';
import { headstartHome, readCacheEntry, weightsCacheDir } from '../../src/weights/index.js';
import type { Pooling } from '../../src/zoo/types.js';

/** Process-wide settings of a handler, from its environment (the CDK stack and `headstart dev` set them). */
export interface RuntimeConfig {
  bucket: string;
  endpoint?: string;
  model: string;
  cut?: FeatureCut;
  home: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const bucket = env.HEADSTART_BUCKET;
  if (!bucket) throw new InvalidArgumentError('HEADSTART_BUCKET is not set: the bucket the service reads and writes.');
  const layer = env.HEADSTART_FEATURE_LAYER;
  const pooling = env.HEADSTART_POOLING as Pooling | undefined;
  return {
    bucket,
    endpoint: env.HEADSTART_S3_ENDPOINT || undefined,
    model: env.HEADSTART_MODEL ?? 'mobilenet_v2',
    cut: layer ? { layer } : pooling ? { pooling } : undefined,
    // Lambda's only writable disk is /tmp.
    home: headstartHome(env.HEADSTART_HOME ?? (env.AWS_LAMBDA_FUNCTION_NAME ? '/tmp/headstart' : undefined)),
  };
}

/** Memoises an async factory for the life of the process (warm reuse); a failed attempt is not cached. */
export function once<T>(factory: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= factory().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

export function storeFromConfig(config: RuntimeConfig): ObjectStore {
  return new S3Store(createS3Client({ endpoint: config.endpoint }), config.bucket);
}

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
  return FeaturePipeline.create({ model: config.model, cut: config.cut, home: config.home });
}
