import { describe, expect, it, vi } from 'vitest';
import { HeadstartError } from '../../../src/errors.js';
import { decodeSafetensors } from '../../../src/features/format/safetensors.js';
import { Ingestor, type IngestPipeline, type LinkRecord } from '../../../src/features/ingest.js';
import { featureDigest } from '../../../src/features/links.js';
import { errorKey, featureKey, linkKey } from '../../../src/layout.js';
import { sha256Hex } from '../../../src/util/hash.js';
import type { FeatureNamespace } from '../../../src/features/namespace.js';
import type { ExtractResult } from '../../../src/features/pipeline.js';
import { MemoryStore, StoreError, type ObjectStore } from '../../../src/store/index.js';
import { flakyStore } from '../../helpers/flaky-store.js';
import { recordingStore } from '../../helpers/recording-store.js';
import type { BatchTiming } from '../../../src/features/stages.js';

const ns: FeatureNamespace = {
  model: 'fake',
  weightsDigest: 'd1',
  layer: 'pool',
  pooling: null,
  preprocess: 'tf',
  inputSize: [2, 2],
  interpolation: 'nearest',
  dtype: 'float32',
};

/**
 * A pipeline without a model: an image's "features" are its length and first byte; bytes starting with
 * 'bad' fail to decode, as a corrupt file would. It records what it was asked to extract.
 */
function fakePipeline(batchSize = 4): IngestPipeline & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    namespace: ns,
    batchSize,
    calls,
    metadata: (source) => ({ model: ns.model, source }),
    async extract(images): Promise<ExtractResult[]> {
      calls.push(images.map((b) => b.toString()));
      return images.map((bytes) =>
        bytes.toString().startsWith('bad')
          ? { ok: false, error: new HeadstartError('CorruptImage', 'the decoder refused it') }
          : { ok: true, features: new Float32Array([bytes.length, bytes[0]!]), shape: [2] },
      );
    },
  };
}

async function storeWith(files: Record<string, string>): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (const [key, body] of Object.entries(files)) await store.put(key, body);
  return store;
}

async function readLink(store: ObjectStore, key: string): Promise<LinkRecord> {
  return JSON.parse((await store.get(linkKey(ns, key))).toString()) as LinkRecord;
}

const sha = (text: string) => sha256Hex(Buffer.from(text));
const puts = (calls: readonly string[]) => calls.filter((c) => c.startsWith('put ')).map((c) => c.slice(4)).sort();

describe('Ingestor (fake pipeline)', () => {
  it('extracts equal bytes once, writes one feature per content and one link per key', async () => {
    const store = recordingStore(await storeWith({ 'images/d/cat/a.jpg': 'AAA', 'images/d/cat/a2.jpg': 'AAA', 'images/d/dog/b.jpg': 'BB' }));
    const pipeline = fakePipeline();

    const outcomes = await new Ingestor(store, pipeline).ingest([{ key: 'images/d/cat/a.jpg' }, { key: 'images/d/cat/a2.jpg' }, { key: 'images/d/dog/b.jpg' }]);

    expect(outcomes.map((o) => [o.key, o.status, o.sha256])).toEqual([
      ['images/d/cat/a.jpg', 'extracted', sha('AAA')],
      ['images/d/cat/a2.jpg', 'extracted', sha('AAA')],
      ['images/d/dog/b.jpg', 'extracted', sha('BB')],
    ]);
    expect(pipeline.calls.flat().sort()).toEqual(['AAA', 'BB']);
    expect(puts(store.calls)).toEqual(
      [featureKey(ns, sha('AAA')), featureKey(ns, sha('BB')), linkKey(ns, 'images/d/cat/a.jpg'), linkKey(ns, 'images/d/cat/a2.jpg'), linkKey(ns, 'images/d/dog/b.jpg')].sort(),
    );
    const tensor = decodeSafetensors(await store.get(featureKey(ns, sha('BB'))));
    expect([...tensor.tensors.features!.data]).toEqual([2, 'B'.charCodeAt(0)]);
    expect(tensor.metadata).toEqual({ model: 'fake', source: 'images/d/dog/b.jpg', features_sha256: featureDigest(new Float32Array([2, 66])) });
    expect(await readLink(store, 'images/d/cat/a2.jpg')).toMatchObject({ key: 'images/d/cat/a2.jpg', sha256: sha('AAA'), status: 'ok' });
  });

  it('writes nothing and runs no model for a redelivered record', async () => {
    const store = recordingStore(await storeWith({ 'images/d/cat/a.jpg': 'AAA' }));
    const pipeline = fakePipeline();
    const ingestor = new Ingestor(store, pipeline);
    await ingestor.ingest([{ key: 'images/d/cat/a.jpg' }]);
    store.reset();

    const [outcome] = await ingestor.ingest([{ key: 'images/d/cat/a.jpg' }]);

    expect(outcome).toMatchObject({ status: 'cached', sha256: sha('AAA') });
    expect(pipeline.calls).toHaveLength(1);
    expect(puts(store.calls)).toEqual([]);
  });

  it('reuses the feature of equal bytes under a new key: a link, no model run', async () => {
    const store = recordingStore(await storeWith({ 'images/d/cat/a.jpg': 'AAA' }));
    const pipeline = fakePipeline();
    const ingestor = new Ingestor(store, pipeline);
    await ingestor.ingest([{ key: 'images/d/cat/a.jpg' }]);
    await store.put('images/other/cat/copy.jpg', 'AAA');
    store.reset();

    const [outcome] = await ingestor.ingest([{ key: 'images/other/cat/copy.jpg' }]);

    expect(outcome).toMatchObject({ status: 'cached', sha256: sha('AAA') });
    expect(pipeline.calls).toHaveLength(1);
    expect(puts(store.calls)).toEqual([linkKey(ns, 'images/other/cat/copy.jpg')]);
  });

  it('extracts new bytes under an old key and points its link at them', async () => {
    const store = await storeWith({ 'images/d/cat/a.jpg': 'AAA' });
    const pipeline = fakePipeline();
    const ingestor = new Ingestor(store, pipeline);
    await ingestor.ingest([{ key: 'images/d/cat/a.jpg' }]);
    await store.put('images/d/cat/a.jpg', 'CCCC');

    const [outcome] = await ingestor.ingest([{ key: 'images/d/cat/a.jpg' }]);

    expect(outcome).toMatchObject({ status: 'extracted', sha256: sha('CCCC') });
    expect(await readLink(store, 'images/d/cat/a.jpg')).toMatchObject({ sha256: sha('CCCC'), etag: (await store.head('images/d/cat/a.jpg'))!.etag });
    expect(await store.exists(featureKey(ns, sha('CCCC')))).toBe(true);
  });

  // A new image's link is not read (one request fewer per image), so a bad one is decoded again when it comes again.
  it('fails a bad image alone, records why, and writes nothing when it comes again', async () => {
    const store = recordingStore(await storeWith({ 'images/d/cat/ok.jpg': 'good', 'images/d/cat/bad.jpg': 'bad bytes', 'images/d/cat/empty.jpg': '' }));
    const pipeline = fakePipeline();
    const ingestor = new Ingestor(store, pipeline);

    const outcomes = await ingestor.ingest(['ok', 'bad', 'empty'].map((n) => ({ key: `images/d/cat/${n}.jpg` })));

    expect(outcomes.map((o) => [o.status, o.code])).toEqual([
      ['extracted', undefined],
      ['failed', 'CorruptImage'],
      ['failed', 'EmptyImage'],
    ]);
    expect(pipeline.calls.flat()).not.toContain('');
    expect(JSON.parse((await store.get(errorKey(sha('bad bytes')))).toString())).toMatchObject({ keys: ['images/d/cat/bad.jpg'], code: 'CorruptImage', namespace: ns });
    expect(await readLink(store, 'images/d/cat/bad.jpg')).toMatchObject({ status: 'failed', code: 'CorruptImage', sha256: sha('bad bytes') });
    expect(await store.exists(featureKey(ns, sha('bad bytes')))).toBe(false);

    store.reset();
    const again = await ingestor.ingest([{ key: 'images/d/cat/bad.jpg' }, { key: 'images/d/cat/empty.jpg' }]);
    expect(again.map((o) => [o.status, o.code])).toEqual([
      ['failed', 'CorruptImage'],
      ['failed', 'EmptyImage'],
    ]);
    expect(puts(store.calls)).toEqual([]);
  });

  it('refuses an image over the size limit without downloading it', async () => {
    const store = recordingStore(await storeWith({ 'images/d/cat/big.jpg': 'x'.repeat(101) }));

    const [outcome] = await new Ingestor(store, fakePipeline(), { maxImageBytes: 100 }).ingest([{ key: 'images/d/cat/big.jpg' }]);

    expect(outcome).toMatchObject({ status: 'failed', code: 'ImageTooLarge' });
    expect(outcome!.reason).toMatch(/101 bytes, over the 100-byte limit/);
    expect(store.calls).not.toContain('get images/d/cat/big.jpg');
    expect(await readLink(store, 'images/d/cat/big.jpg')).toMatchObject({ status: 'failed', code: 'ImageTooLarge' });
  });

  it('skips keys outside images/<dataset>/<label>/ and objects deleted since their event', async () => {
    const store = await storeWith({ 'images/flat.jpg': 'A' });
    const pipeline = fakePipeline();

    const outcomes = await new Ingestor(store, pipeline).ingest([{ key: 'images/flat.jpg' }, { key: 'images/d/cat/gone.jpg' }, { key: 'images/d/cat/gone2.jpg', size: 3, etag: 'e' }]);

    expect(outcomes.map((o) => [o.status, o.reason])).toEqual([
      ['skipped', 'not under images/<dataset>/<label>/'],
      ['skipped', 'object no longer exists'],
      ['skipped', 'object no longer exists'],
    ]);
    expect(pipeline.calls.flat()).toEqual([]);
  });

  it('reports a transient read failure as retry for that image alone; the retry completes it', async () => {
    const inner = await storeWith({ 'images/d/cat/ok.jpg': 'fine', 'images/d/cat/slow.jpg': 'slow' });
    const store = flakyStore(inner, (op, key) => op === 'get' && key === 'images/d/cat/slow.jpg', 1);
    const ingestor = new Ingestor(store, fakePipeline());

    const first = await ingestor.ingest([{ key: 'images/d/cat/ok.jpg' }, { key: 'images/d/cat/slow.jpg' }]);
    const second = await ingestor.ingest([{ key: 'images/d/cat/slow.jpg' }]);

    expect(first.map((o) => [o.status, o.code])).toEqual([
      ['extracted', undefined],
      ['retry', 'SlowDown'],
    ]);
    expect(second[0]).toMatchObject({ status: 'extracted', sha256: sha('slow') });
  });

  it('writes no link for a feature whose write failed, so no link names a missing feature', async () => {
    const inner = await storeWith({ 'images/d/cat/a.jpg': 'AAA' });
    const store = flakyStore(inner, (op, key) => op === 'put' && key === featureKey(ns, sha('AAA')), 1);
    const ingestor = new Ingestor(store, fakePipeline());

    const [first] = await ingestor.ingest([{ key: 'images/d/cat/a.jpg' }]);

    expect(first).toMatchObject({ status: 'retry', code: 'SlowDown' });
    expect(await inner.exists(linkKey(ns, 'images/d/cat/a.jpg'))).toBe(false);
    expect((await ingestor.ingest([{ key: 'images/d/cat/a.jpg' }]))[0]).toMatchObject({ status: 'extracted' });
    expect(await readLink(inner, 'images/d/cat/a.jpg')).toMatchObject({ status: 'ok', sha256: sha('AAA') });
  });

  it('fails the whole call on a storage error that no retry can cure', async () => {
    const inner = await storeWith({ 'images/d/cat/a.jpg': 'AAA' });
    const store: ObjectStore = Object.assign(Object.create(inner) as MemoryStore, {
      put: async () => {
        throw new StoreError('AccessDenied', 'Access Denied');
      },
    });

    await expect(new Ingestor(store, fakePipeline()).ingest([{ key: 'images/d/cat/a.jpg' }])).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('costs four S3 requests per new image, and three without a write for a redelivery', async () => {
    const files = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`images/d/cat/${i}.jpg`, `image ${i}`]));
    const store = recordingStore(await storeWith(files));
    const ingestor = new Ingestor(store, fakePipeline());
    const records = Object.keys(files).map((key) => ({ key, size: files[key]!.length, etag: 'from-the-event' }));

    await ingestor.ingest(records);
    const first = kinds(store.calls);
    store.reset();
    await ingestor.ingest(records);

    // GET image, GET feature (absent), PUT feature, PUT link; then GET image, GET feature (checked), GET link.
    expect(first).toEqual({ get: 20, head: 0, put: 20 });
    expect(kinds(store.calls)).toEqual({ get: 30, head: 0, put: 0 });
  });

  it('reads the next images and writes the last ones while the model runs', async () => {
    const files = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`images/d/cat/${i}.jpg`, `image ${i}`]));
    const store = recordingStore(await storeWith(files));
    const pipeline = gatedPipeline(2);

    const done = new Ingestor(store, pipeline, { readAhead: 4 }).ingest(Object.keys(files).map((key) => ({ key })));

    // Two model calls in flight (the second decodes while the first infers), 4 images read ahead, no more.
    await vi.waitFor(() => expect(pipeline.gates).toHaveLength(2));
    await vi.waitFor(() => expect(imageGets(store.calls)).toBe(8));
    await new Promise((r) => setTimeout(r, 20));
    expect(imageGets(store.calls)).toBe(8);
    pipeline.gates[0]!();
    // The first batch is written while the second is still in the model.
    await vi.waitFor(() => expect(puts(store.calls).filter((k) => k.endsWith('.safetensors'))).toHaveLength(2));
    expect(pipeline.gates).toHaveLength(3);
    pipeline.open();
    expect((await done).every((o) => o.status === 'extracted')).toBe(true);
    expect(puts(store.calls)).toHaveLength(40);
  });

  it('rejects when the model fails, and writes no link for the images it was running', async () => {
    const store = await storeWith({ 'images/d/cat/a.jpg': 'AAA', 'images/d/cat/b.jpg': 'BB' });
    const pipeline: IngestPipeline = { ...fakePipeline(), extract: async () => Promise.reject(new Error('the worker died')) };

    await expect(new Ingestor(store, pipeline).ingest([{ key: 'images/d/cat/a.jpg' }, { key: 'images/d/cat/b.jpg' }])).rejects.toThrow('the worker died');
    expect(await store.exists(linkKey(ns, 'images/d/cat/a.jpg'))).toBe(false);
  });

  it('reports how long each stage took and how many requests of each kind it made', async () => {
    const store = await storeWith({ 'images/d/cat/a.jpg': 'AAA', 'images/d/cat/b.jpg': 'BB' });
    const timings: BatchTiming[] = [];

    await new Ingestor(store, fakePipeline(), { onTiming: (t) => timings.push(t) }).ingest([{ key: 'images/d/cat/a.jpg' }, { key: 'images/d/cat/b.jpg' }]);

    expect(timings).toHaveLength(1);
    expect(timings[0]).toMatchObject({ images: 2, requests: { GET: 4, HEAD: 2, PUT: 4 } });
    expect(Object.keys(timings[0]!.stages)).toEqual(['get', 'check', 'encode', 'putFeature', 'putLink']);
    expect(timings[0]!.stages.putLink).toMatchObject({ count: 2 });
    expect(timings[0]!.wallMs).toBeGreaterThanOrEqual(timings[0]!.stages.get!.busyMs);
  });
});

function kinds(calls: readonly string[]): Record<'get' | 'head' | 'put', number> {
  const count = (op: string) => calls.filter((c) => c.startsWith(`${op} `)).length;
  return { get: count('get'), head: count('head'), put: count('put') };
}

const imageGets = (calls: readonly string[]) => calls.filter((c) => c.startsWith('get images/')).length;

/** The fake pipeline, each model call held until its gate is opened (or all are, with `open`). */
function gatedPipeline(batchSize: number): IngestPipeline & { gates: Array<() => void>; open(): void } {
  const inner = fakePipeline(batchSize);
  const gates: Array<() => void> = [];
  let opened = false;
  return {
    ...inner,
    gates,
    open() {
      opened = true;
      for (const gate of gates) gate();
    },
    async extract(images) {
      if (!opened) await new Promise<void>((resolve) => gates.push(resolve));
      return inner.extract(images);
    },
  };
}
