import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { buildModel } from '../../../src/zoo/index.js';
import { WeightsUnavailableError } from '../../../src/weights/errors.js';
import { importWeights } from '../../../src/weights/import.js';
import { loadModel } from '../../../src/weights/load.js';
import type { LayerWeights } from '../../../src/weights/types.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { modelWeights, patternWeights, writeKerasH5 } from './fixtures.js';

// MobileNetV2 is the smallest zoo model (3.5 M parameters): the zoo wiring is tested on it.
let dir: string;
let h5Path: string;
let source: LayerWeights;

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'headstart-load-'));
  const model = buildModel('mobilenet_v2');
  source = patternWeights(model, 0.5);
  model.dispose();
  h5Path = join(dir, 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5');
  await writeKerasH5(h5Path, source);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const refusingFetch = () => vi.fn<typeof fetch>(async () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND storage.googleapis.com' } })));

describe('loadModel', () => {
  it('weights null: random weights, no digest', async () => {
    const { model, weightsDigest, spec } = await loadModel('mobilenet_v2', { weights: null, includeTop: false, pooling: 'avg' });
    expect(weightsDigest).toBeNull();
    expect(spec.id).toBe('mobilenet_v2');
    expect(model.outputs[0]!.shape).toEqual([null, 1280]);
    model.dispose();
  });

  it("checks Keras' argument rules before any download", async () => {
    const fetch = refusingFetch();
    await expect(loadModel('mobilenet_v2', { classes: 10, fetch, home: dir })).rejects.toThrow(
      "If using `weights='imagenet'` with `includeTop: true`, `classes` should be 1000.  Received classes=10",
    );
    await expect(loadModel('mobilenet_v2', { weights: join(dir, 'absent.h5') })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(loadModel('alexnet')).rejects.toThrow(/Unknown model 'alexnet': expected 'vgg16'/);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("'imagenet' without cache or network: WeightsUnavailableError naming the official file", async () => {
    const home = await mkdtemp(join(dir, 'empty-'));
    const error = await loadModel('mobilenet_v2', { home, fetch: refusingFetch() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsUnavailableError);
    expect((error as Error).message).toContain(
      'Cannot download mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5 from https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5: getaddrinfo ENOTFOUND storage.googleapis.com.',
    );
    expect((error as Error).message).toContain('headstart weights import <path to mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5> --model mobilenet_v2');
  });

  it("'imagenet' no-top with pooling falls back to the cached with-top weights, without leaking", async () => {
    const home = await mkdtemp(join(dir, 'home-'));
    const imported = await importWeights(h5Path, { model: 'mobilenet_v2', home });
    expect(imported.variant).toBe('top');
    const fetch = refusingFetch();
    const loaded = await expectNoLeak(async () => {
      const result = await loadModel('mobilenet_v2', { includeTop: false, pooling: 'avg', home, fetch });
      const conv1 = modelWeights(result.model).find((l) => l.layer === 'Conv1')!;
      result.model.dispose();
      return { ...result, conv1 };
    });
    expect(fetch).not.toHaveBeenCalled();
    expect(loaded.weightsDigest).toBe(imported.index.digest);
    expect(loaded.conv1.weights[0]!.data).toEqual(source.find((l) => l.layer === 'Conv1')!.weights[0]!.data);
  });

  it('a path loads as is, with the digest an import of it has', async () => {
    const home = await mkdtemp(join(dir, 'path-'));
    const imported = await importWeights(h5Path, { model: 'mobilenet_v2', home });
    const { model, weightsDigest } = await loadModel('mobilenet_v2', { weights: h5Path, home });
    expect(weightsDigest).toBe(imported.index.digest);
    const x = tf.zeros([1, 224, 224, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 1000]);
    tf.dispose([x, y]);
    model.dispose();
  });
});
