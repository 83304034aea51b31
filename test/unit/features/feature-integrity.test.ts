import { describe, expect, it } from 'vitest';
import { backfill } from '../../../src/features/backfill.js';
import { buildDatasetIndex } from '../../../src/features/dataset.js';
import { decodeSafetensors, encodeSafetensors } from '../../../src/features/format/safetensors.js';
import type { IngestPipeline, LinkRecord } from '../../../src/features/ingest.js';
import { CorruptFeatureError, featureDigest } from '../../../src/features/links.js';
import type { FeatureNamespace } from '../../../src/features/namespace.js';
import { loadDatasetFeatures } from '../../../src/features/shards.js';
import { featureKey, linkKey } from '../../../src/layout.js';
import { MemoryStore } from '../../../src/store/index.js';
import { sha256Hex } from '../../../src/util/hash.js';

/**
 * The feature cache's integrity (issue 15): each link records its feature's digest, every read checks it,
 * a bad feature names its object and image and makes the image pending, a backfill re-extracts it (never
 * re-links it as cached), and the shards drop a row whose feature changed.
 */
const ns: FeatureNamespace = { model: 'fake', weightsDigest: 'd1', layer: 'pool', pooling: null, preprocess: 'tf', inputSize: [2, 2], interpolation: 'nearest', dtype: 'float32' };

/** Features that are a function of the bytes: [length, first byte, 1]; records what it extracts. */
function fakePipeline(): IngestPipeline & { extracted: string[] } {
  const extracted: string[] = [];
  return {
    namespace: ns,
    batchSize: 4,
    extracted,
    metadata: (source) => ({ source }),
    extract: async (images) => {
      extracted.push(...images.map((b) => b.toString()));
      return images.map((b) => ({ ok: true as const, features: new Float32Array([b.length, b[0]!, 1]), shape: [3] }));
    },
  };
}

const IMAGES = { 'images/d/cat/a.jpg': 'AAAA', 'images/d/cat/b.jpg': 'BB', 'images/d/dog/c.jpg': 'CCC', 'images/d/dog/e.jpg': 'EEEEE' };
const sha = (text: string) => sha256Hex(Buffer.from(text));
const A = 'images/d/cat/a.jpg';

async function extractedStore(): Promise<{ store: MemoryStore; pipeline: ReturnType<typeof fakePipeline> }> {
  const store = new MemoryStore();
  for (const [key, body] of Object.entries(IMAGES)) await store.put(key, body);
  const pipeline = fakePipeline();
  await backfill(store, pipeline, 'images/d/');
  pipeline.extracted.length = 0;
  return { store, pipeline };
}

const readLink = async (store: MemoryStore, key: string) => JSON.parse((await store.get(linkKey(ns, key))).toString()) as LinkRecord;

/**
 * The same safetensors header, the values replaced by random finite floats: decodes fine, means nothing.
 * `asOldFile`: without the digest in the header, as files written before digests existed.
 */
async function scramble(store: MemoryStore, key: string, { asOldFile = false } = {}): Promise<void> {
  const decoded = decodeSafetensors(await store.get(key));
  const values = decoded.tensors.features!.data.map(() => Math.random() * 10);
  const { features_sha256: _, ...old } = decoded.metadata;
  await store.put(key, encodeSafetensors({ features: { dtype: 'F32', shape: [values.length], data: values } }, asOldFile ? old : decoded.metadata));
}

describe('feature digests in links', () => {
  it('records the digest of the feature values in every link', async () => {
    const { store } = await extractedStore();
    const link = await readLink(store, A);
    const features = decodeSafetensors(await store.get(featureKey(ns, sha('AAAA')))).tensors.features!.data;
    expect(link.digest).toBe(featureDigest(features));
    expect(link.digest).toBe(featureDigest(new Float32Array([4, 65, 1])));
  });

  it('a corrupt feature (random finite values) fails training naming the object and image; the image is pending; /backfill re-extracts it', async () => {
    const { store, pipeline } = await extractedStore();
    const object = featureKey(ns, sha('AAAA'));
    await scramble(store, object);

    const error = await loadDatasetFeatures(store, ns, 'd').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CorruptFeatureError);
    expect((error as CorruptFeatureError).code).toBe('CorruptFeature');
    expect((error as Error).message).toContain(`${object} (the features of ${A}) is corrupt: its values' sha256 is`);
    expect((error as Error).message).toContain('POST /backfill re-extracts it');
    const index = await buildDatasetIndex(store, ns, 'd');
    expect(index.totals).toEqual({ images: 4, extracted: 3, failed: 0, pending: 1 });
    // The bad object is gone (a content-addressed cache entry that lies is worse than none).
    expect(await store.exists(object)).toBe(false);
    expect(index.images.find((i) => i.key === A)!.status).toBe('pending');

    const repaired = await backfill(store, pipeline, 'images/d/');

    expect(repaired).toMatchObject({ extracted: 1, cached: 0, alreadyDone: 3 });
    expect(pipeline.extracted).toEqual(['AAAA']);
    const loaded = await loadDatasetFeatures(store, ns, 'd');
    expect([...loaded.features.slice(0, 3)]).toEqual([4, 65, 1]);
  });

  it('a deleted feature is named as missing, and a backfill extracts it again', async () => {
    const { store, pipeline } = await extractedStore();
    await store.delete(featureKey(ns, sha('CCC')));

    await expect(loadDatasetFeatures(store, ns, 'd')).rejects.toThrow(`${featureKey(ns, sha('CCC'))} (the features of images/d/dog/c.jpg) is missing`);
    expect((await buildDatasetIndex(store, ns, 'd')).totals.pending).toBe(1);
    expect(await backfill(store, pipeline, 'images/d/')).toMatchObject({ extracted: 1, cached: 0 });
    expect((await loadDatasetFeatures(store, ns, "d")).keys).toHaveLength(4);
  });

  it('a backfill re-extracts a corrupt feature instead of re-linking it as cached', async () => {
    const { store, pipeline } = await extractedStore();
    await scramble(store, featureKey(ns, sha('BB')));
    // The same bytes under a new key: without the check the corrupt feature would be linked as "cached".
    await store.put('images/d/cat/b-copy.jpg', 'BB');

    const summary = await backfill(store, pipeline, 'images/d/');

    expect(summary).toMatchObject({ extracted: 1, cached: 0 });
    expect(pipeline.extracted).toEqual(['BB']);
    const features = decodeSafetensors(await store.get(featureKey(ns, sha('BB')))).tensors.features!.data;
    expect([...features]).toEqual([2, 66, 1]);
  });

  it('keeps old links without a digest readable, checking what it can: unreadable and non-finite features are named', async () => {
    const { store } = await extractedStore();
    for (const key of Object.keys(IMAGES)) {
      const { digest: _, ...old } = await readLink(store, key);
      await store.put(linkKey(ns, key), JSON.stringify(old));
    }
    expect((await loadDatasetFeatures(store, ns, 'd')).keys).toHaveLength(4);
    // Shards built from good features serve training whatever happens to the features later; a rebuild reads them.
    await store.delete(linkKey(ns, 'images/d/cat/a.jpg'));

    await store.put(featureKey(ns, sha('EEEEE')), Buffer.from('not a tensor file'));
    await store.put(featureKey(ns, sha('BB')), encodeSafetensors({ features: { dtype: 'F32', shape: [3], data: new Float32Array([NaN, 1, 1]) } }, {}));
    const error = (await loadDatasetFeatures(store, ns, 'd').catch((e: unknown) => e)) as CorruptFeatureError;

    expect(error).toBeInstanceOf(CorruptFeatureError);
    expect(error.problems.map((p) => [p.image, p.kind])).toEqual([
      ['images/d/cat/b.jpg', 'not finite'],
      ['images/d/dog/e.jpg', 'unreadable'],
    ]);
    expect(error.message).toMatch(/^2 cached features are missing or corrupt: .*images\/d\/cat\/b\.jpg\) is corrupt: value 0 is NaN; .*images\/d\/dog\/e\.jpg\) is corrupt: Invalid safetensors file/);
  });

  it('drops a row from the shards once its feature changed (an old link, its feature fixed)', async () => {
    const { store, pipeline } = await extractedStore();
    const { digest: _, ...old } = await readLink(store, A);
    await store.put(linkKey(ns, A), JSON.stringify(old));
    await scramble(store, featureKey(ns, sha('AAAA')), { asOldFile: true });
    // Without a digest, finite nonsense cannot be told from features: the shards take it, once.
    const before = await loadDatasetFeatures(store, ns, 'd');
    expect([...before.features.slice(0, 3)]).not.toEqual([4, 65, 1]);

    // The feature is fixed (deleted and extracted again): its link now has a digest.
    await store.delete(featureKey(ns, sha('AAAA')));
    await store.delete(linkKey(ns, A));
    await backfill(store, pipeline, 'images/d/');
    const after = await loadDatasetFeatures(store, ns, 'd');

    expect(after.rebuilt).toBe(true);
    expect(after.manifest.fingerprint).not.toBe(before.manifest.fingerprint);
    expect([...after.features.slice(0, 3)]).toEqual([4, 65, 1]);
  });
});
