import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExtractHandler } from '../../functions/extract/handler.js';
import { buildDatasetIndex } from '../../src/features/dataset.js';
import { decodeSafetensors } from '../../src/features/format/safetensors.js';
import { Ingestor } from '../../src/features/ingest.js';
import { errorKey, featureKey } from '../../src/layout.js';
import { sha256Hex } from '../../src/util/hash.js';
import { FeaturePipeline } from '../../src/features/pipeline.js';
import { loadDatasetFeatures, NoFeaturesError } from '../../src/features/shards.js';
import { MemoryStore, type ObjectStore } from '../../src/store/index.js';
import { flakyStore } from '../helpers/flaky-store.js';
import { makeJpeg, makeTruncatedJpeg } from '../helpers/images.js';

function sqsEvent(keys: string[][]) {
  return {
    Records: keys.map((group, i) => ({
      messageId: `m${i}`,
      eventSource: 'aws:sqs',
      body: JSON.stringify({
        Records: group.map((key) => ({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+') } } })),
      }),
    })),
  };
}

async function countUnder(store: ObjectStore, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of store.listAll(prefix)) n++;
  return n;
}

describe('ingest: images in the bucket become cached feature tensors', () => {
  let pipeline: FeaturePipeline;

  beforeAll(async () => {
    // Random MobileNetV2 weights: the path under test is storage and error handling, not the numbers.
    pipeline = await FeaturePipeline.create({ model: 'mobilenet_v2', weights: null, batchSize: 4 });
  });
  afterAll(() => pipeline?.dispose());

  it('extracts each image once by content, with the metadata of the namespace, and is idempotent', async () => {
    const store = new MemoryStore();
    const a = await makeJpeg(1);
    const b = await makeJpeg(2);
    await store.put('images/toy/cat/a.jpg', a);
    await store.put('images/toy/cat/a copy.jpg', a);
    await store.put('images/toy/dog/b.jpg', b);
    const ingestor = new Ingestor(store, pipeline);
    const handler = createExtractHandler(async () => ({ ingestor }));

    const first = await handler(sqsEvent([['images/toy/cat/a.jpg', 'images/toy/cat/a copy.jpg'], ['images/toy/dog/b.jpg']]), {} as never);
    expect(first).toEqual({ batchItemFailures: [] });
    expect(await countUnder(store, `features/mobilenet_v2@random/global_average_pooling2d/`)).toBe(2 + 3); // 2 tensors + 3 links
    const tensor = decodeSafetensors(await store.get(featureKey(pipeline.namespace, sha256Hex(a))));
    expect(tensor.tensors.features!.shape).toEqual([1280]);
    expect(tensor.metadata).toMatchObject({ model: 'mobilenet_v2', weights_digest: 'random', layer: 'global_average_pooling2d', preprocess: 'tf', input_size: '224x224', interpolation: 'nearest', dtype: 'float32' });
    expect(['images/toy/cat/a.jpg', 'images/toy/cat/a copy.jpg']).toContain(tensor.metadata.source);

    const before = await countUnder(store, '');
    const again = await ingestor.ingest([{ key: 'images/toy/cat/a.jpg' }, { key: 'images/toy/dog/b.jpg' }]);
    expect(again.map((o) => o.status)).toEqual(['cached', 'cached']);
    expect(await countUnder(store, '')).toBe(before);

    // A re-upload of the same bytes, seconds later: the ETag matches, so it is not pending and writes nothing new.
    await new Promise((r) => setTimeout(r, 2100));
    await store.put('images/toy/dog/b.jpg', b);
    expect((await buildDatasetIndex(store, pipeline.namespace, 'toy')).totals).toMatchObject({ extracted: 3, pending: 0 });
    expect((await new Ingestor(store, pipeline).ingest([{ key: 'images/toy/dog/b.jpg' }]))[0]!.status).toBe('cached');
    expect(await countUnder(store, '')).toBe(before);
    // New bytes under the same key are pending until extracted again.
    await store.put('images/toy/dog/b.jpg', await makeJpeg(9));
    expect((await buildDatasetIndex(store, pipeline.namespace, 'toy')).totals).toMatchObject({ extracted: 2, pending: 1 });
  });

  it('records bad images under errors/ and extracts their neighbours', async () => {
    const store = new MemoryStore();
    const good = await makeJpeg(3);
    const files: Record<string, Buffer> = {
      'images/toy/cat/good.jpg': good,
      'images/toy/cat/empty.jpg': Buffer.alloc(0),
      'images/toy/cat/text.jpg': Buffer.from('this is not a picture\n'),
      'images/toy/cat/cut.jpg': await makeTruncatedJpeg(4),
    };
    for (const [key, body] of Object.entries(files)) await store.put(key, body);
    const outcomes = await new Ingestor(store, pipeline).ingest(Object.keys(files).map((key) => ({ key })));
    expect(Object.fromEntries(outcomes.map((o) => [o.key.split('/').pop(), [o.status, o.code]]))).toEqual({
      'good.jpg': ['extracted', undefined],
      'empty.jpg': ['failed', 'EmptyImage'],
      'text.jpg': ['failed', 'NotAnImage'],
      'cut.jpg': ['failed', 'CorruptImage'],
    });
    expect(await countUnder(store, 'errors/')).toBe(3);
    const record = JSON.parse((await store.get(errorKey(sha256Hex(files['images/toy/cat/cut.jpg']!)))).toString());
    expect(record).toMatchObject({ keys: ['images/toy/cat/cut.jpg'], code: 'CorruptImage' });
    expect(record.reason).toMatch(/truncated|corrupt/i);
    // A failure is permanent: a redelivery does not run the model again.
    const again = await new Ingestor(store, pipeline).ingest([{ key: 'images/toy/cat/cut.jpg' }]);
    expect(again[0]).toMatchObject({ status: 'failed', code: 'CorruptImage' });
  });

  it('refuses images over the size limit without downloading them', async () => {
    const store = new MemoryStore();
    await store.put('images/toy/cat/big.jpg', await makeJpeg(5));
    const [outcome] = await new Ingestor(store, pipeline, { maxImageBytes: 100 }).ingest([{ key: 'images/toy/cat/big.jpg' }]);
    expect(outcome).toMatchObject({ status: 'failed', code: 'ImageTooLarge' });
  });

  it('reports transient storage failures as SQS partial batch failures, and the retry succeeds', async () => {
    const inner = new MemoryStore();
    await inner.put('images/toy/cat/ok.jpg', await makeJpeg(6));
    await inner.put('images/toy/dog/slow.jpg', await makeJpeg(7));
    const store = flakyStore(inner, (op, key) => op === 'get' && key === 'images/toy/dog/slow.jpg', 1);
    const handler = createExtractHandler(async () => ({ ingestor: new Ingestor(store, pipeline) }));
    const event = sqsEvent([['images/toy/cat/ok.jpg'], ['images/toy/dog/slow.jpg']]);
    expect(await handler(event, {} as never)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(await handler(sqsEvent([['images/toy/dog/slow.jpg']]), {} as never)).toEqual({ batchItemFailures: [] });
    const index = await buildDatasetIndex(inner, pipeline.namespace, 'toy');
    expect(index.totals).toEqual({ images: 2, extracted: 2, failed: 0, pending: 0 });
  });

  it('throws for a direct invocation with transient failures, so Lambda retries it', async () => {
    const inner = new MemoryStore();
    await inner.put('images/toy/cat/x.jpg', await makeJpeg(8));
    const store = flakyStore(inner, (op) => op === 'put');
    const handler = createExtractHandler(async () => ({ ingestor: new Ingestor(store, pipeline) }));
    const direct = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'images/toy/cat/x.jpg' } } }] };
    await expect(handler(direct, {} as never)).rejects.toMatchObject({ code: 'TransientIngest' });
  });

  it('indexes a dataset and consolidates its features into shards, rebuilt only when stale', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 6; i++) await store.put(`images/toy/${i % 2 ? 'cat' : 'dog'}/${i}.jpg`, await makeJpeg(10 + i));
    await store.put('images/toy/dog/broken.jpg', Buffer.from('nope'));
    await store.put('images/toy/_unlabelled/u.jpg', await makeJpeg(30));
    await expect(loadDatasetFeatures(store, pipeline.namespace, 'toy')).rejects.toBeInstanceOf(NoFeaturesError);
    const ingestor = new Ingestor(store, pipeline);
    const keys: string[] = [];
    for await (const o of store.listAll('images/toy/')) keys.push(o.key);
    await ingestor.ingest(keys.filter((k) => !k.endsWith('5.jpg')).map((key) => ({ key })));

    const index = await buildDatasetIndex(store, pipeline.namespace, 'toy');
    expect(index.labels).toEqual({
      cat: { images: 3, extracted: 2, failed: 0, pending: 1 },
      dog: { images: 4, extracted: 3, failed: 1, pending: 0 },
      _unlabelled: { images: 1, extracted: 1, failed: 0, pending: 0 },
    });
    expect(index.images.find((i) => i.key.endsWith('broken.jpg'))).toMatchObject({ status: 'failed', code: 'NotAnImage' });

    const first = await loadDatasetFeatures(store, pipeline.namespace, 'toy', index);
    expect(first.rebuilt).toBe(true);
    expect([first.features.length, first.dim, first.labels.length]).toEqual([5 * 1280, 1280, 5]);
    expect(first.labels.filter((l) => l === 'cat').length).toBe(2);
    const one = decodeSafetensors(await store.get(featureKey(pipeline.namespace, index.images.find((i) => i.key === first.keys[0])!.sha256!)));
    expect(first.features.slice(0, 1280)).toEqual(one.tensors.features!.data);

    expect((await loadDatasetFeatures(store, pipeline.namespace, 'toy')).rebuilt).toBe(false);
    await ingestor.ingest([{ key: 'images/toy/cat/5.jpg' }]);
    const after = await loadDatasetFeatures(store, pipeline.namespace, 'toy');
    expect([after.rebuilt, after.labels.length]).toEqual([true, 6]);
    expect(await countUnder(store, `features/mobilenet_v2@random/global_average_pooling2d/shards/toy/`)).toBe(2); // one shard + manifest
  });
});
