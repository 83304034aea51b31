import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxModelError } from '../../../src/engine/onnx/errors.js';
import { loadExternalOnnx } from '../../../src/engine/onnx/external.js';
import { nhwcToNchw } from '../../../src/engine/onnx/io.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { randomArray, tinyOnnx } from './helpers.js';

describe('loadExternalOnnx', () => {
  let dir: string;
  /** Writes a tiny model whose 'flat' output is its input, flattened: the layout it was fed shows through. */
  const modelFile = async (name: string, dims: ReadonlyArray<number | string>) => {
    const path = join(dir, `${name}.onnx`);
    await writeFile(path, tinyOnnx(dims));
    return path;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'headstart-onnx-external-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('detects an NCHW input and transposes NHWC batches for it', async () => {
    // Prepare
    const path = await modelFile('nchw', ['batch', 3, 4, 5]);
    const batch = randomArray(2 * 4 * 5 * 3, 1);
    // Act
    const extractor = await loadExternalOnnx(path, { inputSize: [4, 5], preprocess: 'torch', featureOutput: 'flat' });
    const features = await extractor.run(batch, 2);
    // Assess
    expect(extractor).toMatchObject({ engine: 'onnx', inputLayout: 'NCHW', inputName: 'x', outputName: 'flat', preprocess: 'torch' });
    expect(extractor.inputSize).toEqual([4, 5]);
    expect(extractor.outputShape).toEqual([60]);
    expect(Array.from(features)).toEqual(Array.from(nhwcToNchw(batch, 2, 4, 5, 3)));
    extractor.dispose();
  });

  it('passes NHWC batches straight to an NHWC model; the first output is the default', async () => {
    const path = await modelFile('nhwc', ['N', 4, 4, 3]);
    const batch = randomArray(4 * 4 * 3, 2);
    const extractor = await loadExternalOnnx(path, { inputSize: 4, preprocess: 'tf' });
    expect(extractor.inputLayout).toBe('NHWC');
    expect(extractor.outputName).toBe('double');
    expect(extractor.outputShape).toEqual([4, 4, 3]);
    expect(Array.from(await extractor.run(batch, 1))).toEqual(Array.from(batch, (v) => v * 2));
    extractor.dispose();
  });

  it('takes its size from inputSize when the model leaves H and W dynamic', async () => {
    const path = await modelFile('dynamic', ['N', 3, 'height', 'width']);
    const extractor = await loadExternalOnnx(path, { inputSize: [6, 2], preprocess: 'caffe', featureOutput: 'flat' });
    expect(extractor.inputLayout).toBe('NCHW');
    expect(extractor.outputShape).toEqual([36]);
    extractor.dispose();
  });

  it('runs a model with a fixed batch of 1 image by image', async () => {
    const path = await modelFile('batch1', [1, 3, 2, 2]);
    const batch = randomArray(3 * 2 * 2 * 3, 3);
    const extractor = await loadExternalOnnx(path, { inputSize: 2, preprocess: 'torch', featureOutput: 'flat' });
    const features = await extractor.run(batch, 3);
    expect(Array.from(features)).toEqual(Array.from(nhwcToNchw(batch, 3, 2, 2, 3)));
    extractor.dispose();
  });

  it('rejects a batch of the wrong size with the expected length', async () => {
    const path = await modelFile('nchw-check', ['N', 3, 4, 4]);
    const extractor = await loadExternalOnnx(path, { inputSize: 4, preprocess: 'torch' });
    await expect(extractor.run(new Float32Array(10), 1)).rejects.toThrow(
      new InvalidArgumentError('A batch of 1 image(s) of 4×4×3 needs 48 values, got 10.'),
    );
    await expect(extractor.run(new Float32Array(0), 0)).rejects.toThrow('Batch size must be a positive integer, got 0.');
    extractor.dispose();
  });

  describe('says what input it expected', () => {
    const expected = 'expected one float32 image input with 3 channels, [N, 3, H, W] (NCHW) or [N, H, W, 3] (NHWC)';
    it.each([
      ['not an image', ['N', 10], `${expected}; input 'x' is float32 [N, 10].`],
      ['one channel', ['N', 1, 4, 4], `${expected}; input 'x' is float32 [N, 1, 4, 4].`],
      ['another size', ['N', 3, 8, 8], "input 'x' is float32 [N, 3, 8, 8], which does not take 4×4 images; pass the model's own size as inputSize."],
    ])('%s', async (name, dims, message) => {
      const path = await modelFile(name.replace(/ /g, '-'), dims);
      const error = await loadExternalOnnx(path, { inputSize: 4, preprocess: 'tf' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OnnxModelError);
      expect((error as Error).message).toBe(`${path}: ${message}`);
    });
  });

  it('rejects an unknown feature output, listing the outputs', async () => {
    const path = await modelFile('outputs', ['N', 3, 4, 4]);
    await expect(loadExternalOnnx(path, { inputSize: 4, preprocess: 'tf', featureOutput: 'avg_pool' })).rejects.toThrow(
      new InvalidArgumentError(`Unknown featureOutput 'avg_pool' in ${path}: expected 'double' or 'flat'.`),
    );
  });

  it('rejects an unknown preprocess mode and a bad inputSize before loading anything', async () => {
    const path = join(dir, 'never-read.onnx');
    await expect(loadExternalOnnx(path, { inputSize: 4, preprocess: 'imagenet' as 'tf' })).rejects.toThrow(
      "Unknown preprocess mode 'imagenet': expected 'caffe', 'tf' or 'torch'.",
    );
    await expect(loadExternalOnnx(path, { inputSize: [224] as unknown as [number, number], preprocess: 'tf' })).rejects.toThrow(
      'inputSize must be a positive integer or [height, width], got [224].',
    );
  });
});
