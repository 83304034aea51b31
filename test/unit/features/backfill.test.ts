import { describe, expect, it } from 'vitest';
import { backfill } from '../../../src/features/backfill.js';
import type { IngestPipeline } from '../../../src/features/ingest.js';
import type { FeatureNamespace } from '../../../src/features/namespace.js';
import { MemoryStore } from '../../../src/store/index.js';

const ns: FeatureNamespace = { model: 'fake', weightsDigest: 'd1', layer: 'pool', pooling: null, preprocess: 'tf', inputSize: [2, 2], interpolation: 'nearest', dtype: 'float32' };

/** A model-free pipeline that records the size of each model call. */
function countingPipeline(batchSize: number): IngestPipeline & { calls: number[] } {
  const calls: number[] = [];
  return {
    namespace: ns,
    batchSize,
    calls,
    metadata: (source) => ({ source }),
    extract: async (images) => {
      calls.push(images.length);
      return images.map((b) => ({ ok: true as const, features: new Float32Array([b.length]), shape: [1] }));
    },
  };
}

describe('backfill (fake pipeline)', () => {
  it('feeds the model full batches across ingest calls, and a rerun finds nothing to do', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 70; i++) await store.put(`images/d/${i % 2 ? 'cat' : 'dog'}/${i}.jpg`, `image ${i}`);
    const pipeline = countingPipeline(4);

    const first = await backfill(store, pipeline, 'images/d/', { batch: 4 });
    const again = await backfill(store, pipeline, 'images/d/', { batch: 4 });

    expect(first).toMatchObject({ alreadyDone: 0, extracted: 70, failed: 0, retry: 0 });
    // 70 images in calls of 8 batches of 4: two calls of 32, one of 6; every batch full but each call's last.
    expect(pipeline.calls).toEqual([...Array(8).fill(4), ...Array(8).fill(4), 4, 2]);
    expect(again).toMatchObject({ alreadyDone: 70, extracted: 0 });
  });
});
