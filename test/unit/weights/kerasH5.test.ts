import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/engine/backend.js';
import { WeightsFormatError } from '../../../src/weights/errors.js';
import { readKerasH5 } from '../../../src/weights/kerasH5.js';
import { outline, patternWeights, tinyModel, writeKerasH5 } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'headstart-h5-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('readKerasH5', () => {
  it('reads a Keras 2 weights file: layer order from layer_names, weight order from weight_names', async () => {
    const source = patternWeights(tinyModel(), 3);
    const path = join(dir, 'tiny_weights_tf_dim_ordering_tf_kernels.h5');
    await writeKerasH5(path, source, { emptyLayers: ['input_1', 'avg_pool'] });
    const read = await readKerasH5(path);
    expect(outline(read)).toEqual([
      ['conv1/conv', [['kernel', [3, 3, 3, 4]]]],
      ['conv1/bn', [['gamma', [4]], ['beta', [4]], ['moving_mean', [4]], ['moving_variance', [4]]]],
      ['block1_conv1', [['kernel', [3, 3, 4, 6]], ['bias', [6]]]],
      ['fc1', [['kernel', [6, 5]], ['bias', [5]]]],
      ['predictions', [['kernel', [5, 2]], ['bias', [2]]]],
    ]);
    read.forEach((l, i) => l.weights.forEach((w, k) => expect(w.data).toEqual(source[i]!.weights[k]!.data)));
  });

  it('reads a full-model file (weights under model_weights) and chunked layer_names', async () => {
    const source = patternWeights(tinyModel({ includeTop: false }), 4);
    const path = join(dir, 'full-model.h5');
    await writeKerasH5(path, source, { fullModel: true, chunked: true });
    const read = await readKerasH5(path);
    expect(outline(read)).toEqual(outline(source));
    expect(read[2]!.weights[1]!.data).toEqual(source[2]!.weights[1]!.data);
  });

  it('refuses a file that is not HDF5, a missing file, and HDF5 without layer_names', async () => {
    const text = join(dir, 'not.h5');
    await writeFile(text, 'hello');
    await expect(readKerasH5(text)).rejects.toThrow(`'${text}' is not an HDF5 file: expected a Keras .h5 weights file.`);
    await expect(readKerasH5(join(dir, 'absent.h5'))).rejects.toThrow(/No weights file at/);
    const other = join(dir, 'other.h5');
    await h5wasm.ready;
    const file = new h5wasm.File(other, 'w');
    file.create_group('data');
    file.close();
    await expect(readKerasH5(other)).rejects.toThrow(/not a Keras weights file: it has no 'layer_names' attribute \(top-level groups: data\)/);
  });

  it("explains that Keras 3 '.weights.h5' files are not by layer name", async () => {
    const path = join(dir, 'model.weights.h5');
    await h5wasm.ready;
    const file = new h5wasm.File(path, 'w');
    file.create_group('layers');
    file.create_group('vars');
    file.close();
    const error = await readKerasH5(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsFormatError);
    expect((error as Error).message).toMatch(/Keras 3 '.weights.h5' file/);
  });

  it('names a layer listed in layer_names without a group', async () => {
    const path = join(dir, 'dangling.h5');
    await h5wasm.ready;
    const file = new h5wasm.File(path, 'w');
    file.create_attribute('layer_names', ['ghost'], [1], 'S5');
    file.close();
    await expect(readKerasH5(path)).rejects.toThrow("Layer 'ghost' is listed in layer_names but has no group in the file.");
  });
});
