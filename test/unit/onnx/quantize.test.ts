import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { Int8FidelityError } from '../../../src/engine/onnx/errors.js';
import { exportToOnnx } from '../../../src/engine/onnx/export.js';
import { OnnxModel } from '../../../src/engine/onnx/session.js';
import { EditableGraph, ONNX_INT8 } from '../../../src/engine/onnx/quantize/graph.js';
import { activationParams, cosine, quantizeOnnx, quantizeWeights, type CalibrationBatch } from '../../../src/engine/onnx/quantize/index.js';
import { namespaceId } from '../../../src/features/namespace.js';
import { onnx } from '../../../src/engine/onnx/proto.js';
import { randomArray, randomizeWeights } from './helpers.js';

/** conv → BN → ReLU → conv → ReLU → global average: a small feature model with one BatchNorm to fold. */
function smallConvModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', useBias: false }),
      tf.layers.batchNormalization({}),
      tf.layers.reLU({}),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.globalAveragePooling2d({}),
    ],
  });
  randomizeWeights(model);
  return model;
}

const batches = (count: number, seed: number): CalibrationBatch[] =>
  Array.from({ length: count }, (_, i) => ({ data: randomArray(4 * 12 * 12 * 3, seed + i), dims: [4, 12, 12, 3] }));

describe('per-channel symmetric int8 weights', () => {
  it('scales each output channel by its own max |w| / 127 (axis 0, as a Conv weight O×I×kh×kw)', () => {
    // Prepare: 2 output channels × 1 input × 1×2 kernel
    const weights = Float32Array.of(0.5, -1.27, 0.01, 0.0254);
    // Act
    const { values, scales } = quantizeWeights(weights, [2, 1, 1, 2], 0);
    // Assess
    expect(Array.from(scales)).toEqual([Math.fround(1.27 / 127), Math.fround(0.0254 / 127)]);
    expect(Array.from(values)).toEqual([50, -127, 50, 127]);
  });

  it('takes axis 1 for a MatMul weight K×N', () => {
    const { scales } = quantizeWeights(Float32Array.of(1, -4, -2, 0.5), [2, 2], 1);
    expect(Array.from(scales)).toEqual([Math.fround(2 / 127), Math.fround(4 / 127)]);
  });

  it('gives uint8 activations a range that holds 0 (zero pads and ReLU stay exact)', () => {
    expect(activationParams(0, 2.55).scale).toBeCloseTo(0.01, 12);
    expect(activationParams(0, 2.55).zeroPoint).toBe(0);
    expect(activationParams(-1, 1).zeroPoint).toBe(128);
    expect(activationParams(0.5, 2).zeroPoint).toBe(0);
  });
});

describe('quantizeOnnx on a small conv model', () => {
  let model: tf.LayersModel;
  let fp32: Uint8Array;

  beforeAll(async () => {
    await initBackend();
    model = smallConvModel();
    fp32 = exportToOnnx(model);
  });
  afterAll(() => model.dispose());

  it('writes valid QDQ ONNX that ONNX Runtime loads and runs close to fp32, with per-channel conv scales', async () => {
    // Act
    const { model: int8, report } = await quantizeOnnx(fp32, batches(2, 1), { method: 'minmax' });
    // Assess: the graph
    const graph = new EditableGraph(int8);
    const ops = graph.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'QuantizeLinear').length).toBeGreaterThan(0);
    expect(ops).not.toContain('BatchNormalization');
    expect(ops).not.toContain('Relu');
    expect(report).toMatchObject({ foldedBatchNorms: 1, images: 8 });
    const decoded = onnx.ModelProto.decode(int8).graph!.initializer!;
    const convWeights = decoded.filter((t) => t.dataType === ONNX_INT8 && t.dims!.length === 4);
    expect(convWeights.map((t) => t.dims!.map(Number))).toEqual([
      [8, 3, 3, 3],
      [16, 8, 3, 3],
    ]);
    for (const w of convWeights) {
      const scale = graph.floats(`${w.name}/scale`)!;
      expect(scale.dims).toEqual([Number(w.dims![0])]);
      // Each channel's largest weight lands on ±127.
      const q = new Int8Array(Uint8Array.from(w.rawData!).buffer);
      const perChannel = q.length / scale.dims[0]!;
      for (let c = 0; c < scale.dims[0]!; c++) expect(Math.max(...Array.from(q.subarray(c * perChannel, (c + 1) * perChannel), Math.abs))).toBe(127);
    }
    // Assess: ORT (in our worker) runs it, and the features stay close to fp32 on unseen inputs
    const [a, b] = [await OnnxModel.create(fp32), await OnnxModel.create(int8)];
    try {
      const input = randomArray(4 * 12 * 12 * 3, 99);
      const [ra, rb] = [await a.run(input, [4, 12, 12, 3]), await b.run(input, [4, 12, 12, 3])];
      expect(rb.shape).toEqual([4, 16]);
      expect(cosine(rb.data, ra.data)).toBeGreaterThan(0.98);
    } finally {
      a.dispose();
      b.dispose();
    }
    expect(report.fidelity.median).toBeGreaterThan(0.98);
  });

  it('refuses int8 with the numbers when the fidelity gate is not met', async () => {
    // A percentile range that keeps only the middle 10% of each activation's values clips the features flat.
    const error = await quantizeOnnx(fp32, batches(1, 7), { method: 'percentile', percentile: 0.1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Int8FidelityError);
    expect((error as Error).message).toMatch(/^int8 refused: on 4 calibration image\(s\) the cosine between int8 and fp32 features has median [\d.]+ and minimum [\d.]+; the gate is median ≥ 0.99 and minimum ≥ 0.95/);
  });
});

describe('int8 feature namespace', () => {
  it('is a sibling of the fp32 one, never under it', () => {
    const ns = { model: 'densenet121', weightsDigest: 'abc', layer: 'avg_pool', pooling: 'avg' as const, preprocess: 'torch' as const, inputSize: [224, 224] as [number, number], interpolation: 'nearest' as const, dtype: 'float32' as const };
    expect(namespaceId(ns)).toBe('densenet121@abc/avg_pool');
    expect(namespaceId({ ...ns, precision: 'int8' })).toBe('densenet121@abc/avg_pool@int8');
  });
});
