import { describe, expect, it } from 'vitest';
import { WeightsFormatError } from '../../../src/weights/errors.js';
import type { LayerWeights } from '../../../src/weights/types.js';
import { decodeWeightsFile, encodeWeightsFile, weightsDigest } from '../../../src/weights/weightsFile.js';

const SAMPLE: LayerWeights = [
  { layer: 'conv1/conv', weights: [{ name: 'kernel', shape: [1, 1, 1, 3], data: Float32Array.of(1, 2, 3) }] },
  {
    layer: 'conv1/bn',
    weights: [
      { name: 'gamma', shape: [2], data: Float32Array.of(0.5, -0.5) },
      { name: 'beta', shape: [2], data: Float32Array.of(0, 1e-7) },
    ],
  },
];

const encode = (weights: LayerWeights) => Buffer.concat([...encodeWeightsFile(weights)]);

describe('the converted weights file (safetensors layout)', () => {
  it('round-trips layers, names, shapes and values, layer names with "/" included', () => {
    const decoded = decodeWeightsFile(encode(SAMPLE));
    expect(decoded).toEqual(SAMPLE);
  });

  it('has a safetensors header: u64 length, JSON padded to 8 bytes, F32 tensors with contiguous offsets', () => {
    const bytes = encode(SAMPLE);
    const length = Number(bytes.readBigUInt64LE(0));
    expect(length % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
    expect(header['conv1/conv/kernel']).toEqual({ dtype: 'F32', shape: [1, 1, 1, 3], data_offsets: [0, 12] });
    expect(header['conv1/bn/gamma'].data_offsets).toEqual([12, 20]);
    expect(header['conv1/bn/beta'].data_offsets).toEqual([20, 28]);
    expect(bytes.byteLength).toBe(8 + length + 28);
    expect(JSON.parse(header.__metadata__.layers)).toEqual([['conv1/conv', 1], ['conv1/bn', 2]]);
    expect(bytes.readFloatLE(8 + length + 12)).toBe(0.5);
  });

  it('decodes from an unaligned view by copying', () => {
    const bytes = encode(SAMPLE);
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    expect(decodeWeightsFile(shifted.subarray(1))).toEqual(SAMPLE);
  });

  it('has a digest that depends on every value and nothing else', () => {
    const digest = weightsDigest(SAMPLE);
    expect(digest).toMatch(/^[0-9a-f]{16}$/);
    expect(weightsDigest(structuredClone(SAMPLE))).toBe(digest);
    const changed = structuredClone(SAMPLE);
    changed[1]!.weights[1]!.data[1] = 2e-7;
    expect(weightsDigest(changed)).not.toBe(digest);
  });

  it('refuses other files and truncated ones', () => {
    expect(() => decodeWeightsFile(Buffer.from('abc'))).toThrow(WeightsFormatError);
    const bytes = encode(SAMPLE);
    expect(() => decodeWeightsFile(bytes.subarray(0, bytes.byteLength - 4), 'w.bin')).toThrow('w.bin is truncated: data ends at');
    const foreign = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')]);
    expect(() => decodeWeightsFile(foreign, 'x.safetensors')).toThrow('x.safetensors is not a headstart-weights v1 file.');
  });
});
