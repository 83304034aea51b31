import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { float16ToNumber } from '../../../src/weights/dequantize.js';
import { WeightsFormatError } from '../../../src/weights/errors.js';
import { readTfjsLayersFolder } from '../../../src/weights/tfjsFolder.js';
import { describeWhen, sharedExport } from '../../helpers/real-weights.js';
import { outline, patternWeights, tinyModel, writeTfjsFolder } from './fixtures.js';

const shared = sharedExport();
const DENSENET = shared.path;

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'headstart-tfjs-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describeWhen(shared, 'readTfjsLayersFolder on the shared DenseNet121 (old per-group manifest)', () => {
  it('reads all 606 weights of the 241 groups into 242 layers, grouped by topology layer names', async () => {
    const weights = await readTfjsLayersFolder(DENSENET);
    expect(weights.reduce((n, l) => n + l.weights.length, 0)).toBe(606);
    expect(weights).toHaveLength(242); // group2 holds both conv1/bn and conv1/conv
    const byName = new Map(weights.map((l) => [l.layer, l]));
    expect(outline([byName.get('conv1/bn')!, byName.get('conv1/conv')!, byName.get('fc1000')!])).toEqual([
      ['conv1/bn', [['gamma', [64]], ['beta', [64]], ['moving_mean', [64]], ['moving_variance', [64]]]],
      ['conv1/conv', [['kernel', [7, 7, 3, 64]]]],
      ['fc1000', [['kernel', [1024, 1000]], ['bias', [1000]]]],
    ]);
  });

  it('decodes the bytes where the manifest says they are', async () => {
    const weights = await readTfjsLayersFolder(join(DENSENET, 'model.json'));
    const shard = await readFile(join(DENSENET, 'group2-shard1of1'));
    const kernel = weights.find((l) => l.layer === 'conv1/conv')!.weights[0]!;
    // group2: 4 × 64 float32 of conv1/bn, then the conv1/conv kernel.
    expect(kernel.data[0]).toBe(shard.readFloatLE(4 * 64 * 4));
    expect(kernel.data[kernel.data.length - 1]).toBe(shard.readFloatLE(shard.byteLength - 4));
  });
});

describe('readTfjsLayersFolder on the current format', () => {
  it('reads one group whose shards concatenate, weights straddling shard boundaries', async () => {
    const source = patternWeights(tinyModel(), 1);
    const folder = join(dir, 'current');
    await writeTfjsFolder(folder, source, { style: 'current', shardBytes: 50 });
    const read = await readTfjsLayersFolder(folder);
    expect(outline(read)).toEqual(outline(source));
    read.forEach((l, i) => l.weights.forEach((w, k) => expect(w.data).toEqual(source[i]!.weights[k]!.data)));
  });

  it("strips ':0' suffixes and a leading model-name scope", async () => {
    const source = patternWeights(tinyModel(), 2);
    const folder = join(dir, 'scoped');
    await writeTfjsFolder(folder, source, { style: 'current', suffix: true, modelPrefix: 'tiny' });
    expect(outline(await readTfjsLayersFolder(folder))).toEqual(outline(source));
  });

  it('groups the weights of a TF.js model.save (trainable first) under their layers', async () => {
    const model = tinyModel();
    const folder = join(dir, 'saved');
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        await mkdir(folder, { recursive: true });
        await writeFile(join(folder, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
        await writeFile(join(folder, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    const bn = (await readTfjsLayersFolder(folder)).find((l) => l.layer === 'conv1/bn')!;
    expect(bn.weights.map((w) => w.name)).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
  });
});

describe('readTfjsLayersFolder dequantisation', () => {
  const manifest = (weights: unknown[]) => ({ format: 'layers-model', modelTopology: { class_name: 'Model', config: { name: 'q', layers: [{ name: 'dense', class_name: 'Dense', config: { name: 'dense' } }] } }, weightsManifest: [{ paths: ['q.bin'], weights }] });

  it('turns uint8, uint16 (value·scale + min) and float16 into float32', async () => {
    const folder = join(dir, 'quantized');
    await mkdir(folder, { recursive: true });
    const u8 = Uint8Array.of(0, 1, 255);
    const u16 = new Uint8Array(Uint16Array.of(0, 2, 65535).buffer);
    const f16 = new Uint8Array(Uint16Array.of(0x3800, 0xc000, 0x7bff, 0x0001).buffer);
    // uint8 (3 bytes) then uint16 at an odd offset, as the converter packs them.
    await writeFile(join(folder, 'q.bin'), Buffer.concat([u8, u16, f16]));
    await writeFile(
      join(folder, 'model.json'),
      JSON.stringify(manifest([
        { name: 'dense/kernel', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
        { name: 'dense/bias', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.25, min: 2 } },
        { name: 'dense/extra', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'float16' } },
      ])),
    );
    const [dense] = await readTfjsLayersFolder(folder);
    expect(Array.from(dense!.weights[0]!.data)).toEqual([-1, -0.5, 126.5]);
    expect(Array.from(dense!.weights[1]!.data)).toEqual([2, 2.5, 16385.75]);
    expect(Array.from(dense!.weights[2]!.data)).toEqual([0.5, -2, 65504, 2 ** -24]);
    expect(dense!.weights[2]!.shape).toEqual([2, 2]);
  });

  it('widens float16 specials', () => {
    expect(float16ToNumber(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(float16ToNumber(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(float16ToNumber(0x7e00)).toBeNaN();
    expect(float16ToNumber(0x3c00)).toBe(1);
  });

  it('refuses uint8 quantisation without scale and min', async () => {
    const folder = join(dir, 'noscale');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'q.bin'), Buffer.from([1, 2]));
    await writeFile(join(folder, 'model.json'), JSON.stringify(manifest([{ name: 'dense/kernel', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8' } }])));
    await expect(readTfjsLayersFolder(folder)).rejects.toThrow("Weight 'dense/kernel' is quantized to uint8 but its manifest entry has no scale and min.");
  });
});

describe('readTfjsLayersFolder errors', () => {
  it('names a missing shard', async () => {
    const folder = join(dir, 'missing-shard');
    await writeTfjsFolder(folder, patternWeights(tinyModel(), 0), { style: 'current' });
    await rm(join(folder, 'group1-shard1of1.bin'));
    await expect(readTfjsLayersFolder(folder)).rejects.toThrow(/Missing weight shard 'group1-shard1of1.bin'/);
  });

  it('names the weight that runs past the end of its shards', async () => {
    const folder = join(dir, 'short-shard');
    await writeTfjsFolder(folder, patternWeights(tinyModel(), 0), { style: 'current' });
    const path = join(folder, 'group1-shard1of1.bin');
    await writeFile(path, (await readFile(path)).subarray(0, 100));
    await expect(readTfjsLayersFolder(folder)).rejects.toThrow(/end before weight 'conv1\/conv\/kernel' \(needs bytes 0–432, shards hold 100\)/);
  });

  it('refuses a graph model and a folder without model.json', async () => {
    const folder = join(dir, 'graph');
    await mkdir(folder, { recursive: true });
    await expect(readTfjsLayersFolder(folder)).rejects.toBeInstanceOf(WeightsFormatError);
    await writeFile(join(folder, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }));
    await expect(readTfjsLayersFolder(folder)).rejects.toThrow(/graph model.*tfjs_layers_model/);
  });

  it('refuses a weight that belongs to no topology layer', async () => {
    const folder = join(dir, 'orphan');
    await writeTfjsFolder(folder, patternWeights(tinyModel(), 0), { style: 'current', topologyLayers: ['input_1', 'conv1/bn'] });
    await expect(readTfjsLayersFolder(folder)).rejects.toThrow("Weight 'conv1/conv/kernel' in the manifest belongs to no layer of the model.json topology.");
  });
});
