import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { createExtractor, engineSettings, parseEngine, runsOnnx, TfjsExtractor, type Extractor } from '../../../src/engine/extractor.js';
import { UnsupportedLayerError } from '../../../src/engine/onnx/errors.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { randomArray, randomizeWeights } from './helpers.js';

/** A small feature model: conv → BN → ReLU6 → depthwise → global average (8 features). */
function featureModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [10, 10, 3], filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
      tf.layers.batchNormalization({}),
      tf.layers.reLU({ maxValue: 6 }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }),
      tf.layers.globalAveragePooling2d({}),
    ],
  });
  randomizeWeights(model);
  return model;
}

describe('createExtractor', () => {
  let model: tf.LayersModel;
  const extractors: Extractor[] = [];
  const batch = randomArray(3 * 10 * 10 * 3, 11);
  const savedEngine = process.env.HEADSTART_ENGINE;

  beforeAll(async () => {
    await initBackend();
    model = featureModel();
  });
  afterEach(() => {
    extractors.splice(0).forEach((e) => e.dispose());
    if (savedEngine === undefined) delete process.env.HEADSTART_ENGINE;
    else process.env.HEADSTART_ENGINE = savedEngine;
  });
  afterAll(() => model.dispose());

  const create = async (...args: Parameters<typeof createExtractor>) => {
    const extractor = await createExtractor(...args);
    extractors.push(extractor);
    return extractor;
  };

  it('gives the same features with ONNX Runtime and TF.js', async () => {
    // Prepare
    const onnx = await create(model, { engine: 'onnx', intraOpThreads: 1 });
    const tfjs = await create(model, { engine: 'tfjs' });
    // Act
    const [a, b] = [await onnx.run(batch, 3), await tfjs.run(batch, 3)];
    // Assess
    expect([onnx.engine, tfjs.engine]).toEqual(['onnx', 'tfjs']);
    for (const e of [onnx, tfjs]) {
      expect(e.inputSize).toEqual([10, 10]);
      expect(e.outputShape).toEqual([8]);
    }
    expect(a).toHaveLength(24);
    const scale = Math.max(1, ...Array.from(b, Math.abs));
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(1e-4 * scale));
  });

  it("'auto' takes ONNX Runtime here (onnxruntime-node loads)", async () => {
    expect((await create(model)).engine).toBe('onnx');
    expect((await create(model, { engine: 'auto' })).engine).toBe('onnx');
  });

  it('reads HEADSTART_ENGINE when no engine is given', async () => {
    process.env.HEADSTART_ENGINE = 'tfjs';
    expect((await create(model)).engine).toBe('tfjs');
    expect((await create(model, { engine: 'onnx' })).engine).toBe('onnx');
  });

  it("'auto' falls back to TF.js for a model the exporter cannot translate; 'onnx' says why", async () => {
    const upsampling = tf.sequential({
      layers: [tf.layers.upSampling2d({ inputShape: [4, 4, 3], size: [2, 2], name: 'up' }), tf.layers.globalMaxPooling2d({})],
    });
    expect((await create(upsampling, { engine: 'auto' })).engine).toBe('tfjs');
    await expect(createExtractor(upsampling, { engine: 'onnx' })).rejects.toThrow(UnsupportedLayerError);
    upsampling.dispose();
  });

  it('exports through the cache when given cacheDir and cacheKey', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'headstart-extractor-'));
    try {
      const extractor = await create(model, { engine: 'onnx', cacheDir, cacheKey: 'small@test/gap' });
      expect((await stat(join(cacheDir, 'onnx', 'small@test', 'gap.onnx'))).size).toBeGreaterThan(0);
      expect(await extractor.run(batch, 3)).toHaveLength(24);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown engine, listing the valid ones', async () => {
    await expect(createExtractor(model, { engine: 'gpu' as 'onnx' })).rejects.toThrow(
      new InvalidArgumentError("Unknown engine 'gpu': expected 'onnx', 'tfjs' or 'auto'."),
    );
    process.env.HEADSTART_ENGINE = 'tensorflow';
    await expect(createExtractor(model)).rejects.toThrow("Unknown engine 'tensorflow'");
  });

  it('rejects cacheDir without cacheKey', async () => {
    await expect(createExtractor(model, { engine: 'onnx', cacheDir: '/tmp/x' })).rejects.toThrow(
      'cacheDir and cacheKey go together: give both to cache the ONNX export, or neither.',
    );
  });

  it.each(['onnx', 'tfjs', 'auto'] as const)("rejects a model that is not a fixed-size RGB image model (engine '%s')", async (engine) => {
    const anySize = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [null, null, 3] })] });
    const grey = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [8, 8, 1] })] });
    await expect(createExtractor(anySize, { engine })).rejects.toThrow(/takes \[null, null, null, 3\]\. Build the model with an explicit inputShape/);
    await expect(createExtractor(grey, { engine })).rejects.toThrow('fixed-size RGB image input [null, height, width, 3]');
    anySize.dispose();
    grey.dispose();
  });

  it.each(['onnx', 'tfjs'] as const)("rejects a batch of the wrong length ('%s')", async (engine) => {
    const extractor = await create(model, { engine });
    await expect(extractor.run(batch, 2)).rejects.toThrow('A batch of 2 image(s) of 10×10×3 needs 600 values, got 900.');
  });

  it.each(['onnx', 'tfjs'] as const)("leaves no tensor behind ('%s')", async (engine) => {
    const extractor = await create(model, { engine });
    await expectNoLeak(() => extractor.run(batch, 3));
  });

  it('the ONNX extractor stops working once disposed; the TF.js model stays usable', async () => {
    const extractor = await createExtractor(model, { engine: 'onnx' });
    extractor.dispose();
    await expect(extractor.run(batch, 3)).rejects.toThrow(/was disposed/);
    const tfjs = new TfjsExtractor(model);
    tfjs.dispose();
    expect(await tfjs.run(batch, 3)).toHaveLength(24);
  });
});

describe('createExtractor with the model handed over (owns)', () => {
  const batch = randomArray(3 * 10 * 10 * 3, 12);

  beforeAll(() => initBackend());

  it('disposes the model once ONNX Runtime holds its own copy, and the extractor still runs', async () => {
    const model = featureModel();
    const extractor = await createExtractor(model, { engine: 'onnx', owns: model });
    try {
      expect(() => model.predict(tf.zeros([1, 10, 10, 3]))).toThrow(/disposed/);
      expect(await extractor.run(batch, 3)).toHaveLength(24);
    } finally {
      extractor.dispose();
    }
  });

  it('keeps the model while TF.js runs it and disposes it with the extractor', async () => {
    const model = featureModel();
    const before = tf.memory().numTensors;
    const extractor = await createExtractor(model, { engine: 'tfjs', owns: model });
    expect(await extractor.run(batch, 3)).toHaveLength(24);
    extractor.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
    expect(() => model.predict(tf.zeros([1, 10, 10, 3]))).toThrow(/disposed/);
  });

  it('disposes the model when it cannot open one', async () => {
    const anySize = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [null, null, 3] })] });
    let disposed = 0;
    await expect(createExtractor(anySize, { engine: 'onnx', owns: { dispose: () => void disposed++ } })).rejects.toThrow(InvalidArgumentError);
    expect(disposed).toBe(1);
    anySize.dispose();
  });
});

describe('engineSettings', () => {
  it("takes the caller's options over the environment", () => {
    const env = { HEADSTART_ENGINE: 'tfjs', HEADSTART_THREADS: '3', HEADSTART_EXECUTION_PROVIDERS: 'cuda,cpu' };
    expect(engineSettings({ engine: 'onnx', threads: 1, executionProviders: ['cpu'] }, env)).toEqual({
      engine: 'onnx',
      intraOpThreads: 1,
      executionProviders: ['cpu'],
    });
  });

  it('reads HEADSTART_ENGINE, HEADSTART_THREADS and HEADSTART_EXECUTION_PROVIDERS (what the Batch image sets)', () => {
    const env = { HEADSTART_ENGINE: 'onnx', HEADSTART_THREADS: '2', HEADSTART_EXECUTION_PROVIDERS: ' cuda , cpu ' };
    expect(engineSettings({}, env)).toEqual({ engine: 'onnx', intraOpThreads: 2, executionProviders: ['cuda', 'cpu'] });
  });

  it("defaults to 'auto' and leaves threads and providers to ONNX Runtime", () => {
    expect(engineSettings({}, {})).toEqual({ engine: 'auto' });
    expect(engineSettings({}, { HEADSTART_ENGINE: '', HEADSTART_THREADS: '', HEADSTART_EXECUTION_PROVIDERS: '' })).toEqual({ engine: 'auto' });
  });

  it('reads HEADSTART_SESSIONS, the caller\'s sessions first', () => {
    expect(engineSettings({}, { HEADSTART_SESSIONS: '2' })).toEqual({ engine: 'auto', sessions: 2 });
    expect(engineSettings({ sessions: 1 }, { HEADSTART_SESSIONS: '2' })).toEqual({ engine: 'auto', sessions: 1 });
    expect(() => engineSettings({}, { HEADSTART_SESSIONS: '0' })).toThrow(new InvalidArgumentError("HEADSTART_SESSIONS must be a positive integer, got '0'."));
  });

  it.each(['0', '-1', '1.5', 'many'])('refuses HEADSTART_THREADS=%j', (threads) => {
    expect(() => engineSettings({}, { HEADSTART_THREADS: threads })).toThrow(
      new InvalidArgumentError(`HEADSTART_THREADS must be a positive integer, got '${threads}'.`),
    );
  });

  it('refuses an unknown engine, listing the valid ones', () => {
    expect(() => engineSettings({}, { HEADSTART_ENGINE: 'gpu' })).toThrow("Unknown engine 'gpu': expected 'onnx', 'tfjs' or 'auto'.");
  });

  it("runs a ready ONNX graph for 'onnx' and for 'auto' here, never for 'tfjs'", async () => {
    expect(await runsOnnx({ engine: 'onnx' })).toBe(true);
    expect(await runsOnnx({ engine: 'auto' })).toBe(true);
    expect(await runsOnnx({ engine: 'tfjs' })).toBe(false);
  });
});

describe('parseEngine', () => {
  it.each([
    [undefined, 'auto'],
    ['', 'auto'],
    ['auto', 'auto'],
    ['onnx', 'onnx'],
    ['tfjs', 'tfjs'],
  ])('%j → %s', (name, engine) => {
    expect(parseEngine(name)).toBe(engine);
  });
});
