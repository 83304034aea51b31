import { tf } from '../../../src/engine/backend.js';
import { exportToOnnx } from '../../../src/engine/onnx/export.js';
import { attr, GraphBuilder } from '../../../src/engine/onnx/graph-builder.js';
import { OnnxModel } from '../../../src/engine/onnx/session.js';

/** mulberry32: a small seeded PRNG, so that failures reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi). */
export function randomArray(length: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = seededRandom(seed);
  return Float32Array.from({ length }, () => lo + (hi - lo) * next());
}

/**
 * Gives BatchNorm statistics, gammas and biases non-trivial values (initialisers leave them
 * zeros/ones, which would let a wrong BatchNorm or bias translation pass). Kernels keep their
 * (random) initialisation.
 */
export function randomizeWeights(model: tf.LayersModel, seed = 1): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.weights.length === 0 || layer instanceof tf.LayersModel) continue;
    const values = layer.weights.map((w) => {
      const name = w.originalName.split('/').pop() ?? '';
      const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
      const shape = w.shape as number[];
      if (name === 'moving_variance' || name === 'gamma') return tf.tensor(randomArray(size, s++, 0.5, 1.5), shape);
      if (name === 'moving_mean' || name === 'beta' || name === 'bias') return tf.tensor(randomArray(size, s++, -0.5, 0.5), shape);
      return w.read().clone();
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

export interface Parity {
  maxDiff: number;
  maxAbs: number;
  /** The task's bound: 1e-4 × max(1, max |output|). */
  bound: number;
  onnxShape: number[];
  tfjsShape: number[];
}

/** Runs `model` on the same random input with TF.js and with ONNX Runtime (after export). */
export async function compareEngines(model: tf.LayersModel, inputShape: number[], seed = 7, opset?: number): Promise<Parity> {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const input = randomArray(size, seed);
  const expected = tf.tidy(() => model.predict(tf.tensor(input, inputShape)) as tf.Tensor);
  const tfjsShape = expected.shape;
  const reference = (await expected.data()) as Float32Array;
  expected.dispose();
  const onnxModel = await OnnxModel.create(exportToOnnx(model, { opset }));
  try {
    const { data, shape } = await onnxModel.run(input, inputShape);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < reference.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(reference[i] - data[i]));
      maxAbs = Math.max(maxAbs, Math.abs(reference[i]));
    }
    if (data.length !== reference.length) maxDiff = Number.POSITIVE_INFINITY;
    return { maxDiff, maxAbs, bound: 1e-4 * Math.max(1, maxAbs), onnxShape: shape, tfjsShape };
  } finally {
    onnxModel.dispose();
  }
}

/** Symbolic application with the SymbolicTensor type TF.js' `apply` loses. */
export function call(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

/**
 * A hand-built ONNX model (no TF.js): input `x` of `dims` → outputs 'double' (2x) and 'flat'
 * (Flatten at axis 1): enough to check what the runtime wrapper does with inputs and outputs.
 */
export function tinyOnnx(dims: ReadonlyArray<number | string>, inputName = 'x'): Uint8Array {
  const b = new GraphBuilder();
  b.unique(inputName);
  const outputs = ['double', 'flat'].map((n) => b.unique(n));
  b.nodeNamed('Mul', [inputName, b.scalar('two', 2)], outputs[0]);
  b.nodeNamed('Flatten', [inputName], outputs[1], { axis: attr.int(1) });
  const rest = dims.slice(1).map((d) => (typeof d === 'number' ? d : 1));
  const flatDim = typeof dims[1] === 'number' && dims.slice(1).every((d) => typeof d === 'number') ? rest.reduce((a, c) => a * c, 1) : 'F';
  return b.encode({
    graphName: 'tiny',
    inputs: [{ name: inputName, dims }],
    outputs: [
      { name: outputs[0], dims },
      { name: outputs[1], dims: [dims[0], flatDim] },
    ],
    opset: 17,
    irVersion: 8,
    producerName: 'test',
    producerVersion: '0',
  });
}
