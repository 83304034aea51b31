import { describe, expect, it } from 'vitest';
import { JS_ACTIVATIONS, erf } from '../../../src/heads/engines/js-activations.js';
import { JsAdam } from '../../../src/heads/engines/js-adam.js';
import { addBias, columnSums, matMul, matMulTransposeA, matMulTransposeB } from '../../../src/heads/engines/js-kernels.js';
import { softmaxRows } from '../../../src/heads/engines/js.js';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { HEAD_ACTIVATIONS } from '../../../src/heads/types.js';
import { mulberry32 } from '../../../src/heads/random.js';

const random = mulberry32(9);
const matrix = (rows: number, cols: number) => Float32Array.from({ length: rows * cols }, () => random() * 2 - 1);

/** c = a · b with a[i,p] = get(a, i, p) — the definition, for checking the tiled kernels. */
function naive(m: number, k: number, n: number, a: (i: number, p: number) => number, b: (p: number, j: number) => number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) c[i * n + j] += a(i, p) * b(p, j);
  return c;
}

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
}

// Shapes with and without full 4×4 tiles, including a dimension smaller than a tile.
const shapes: [number, number, number][] = [[8, 12, 16], [7, 5, 10], [3, 9, 2], [13, 4, 6]];

describe('js kernels', () => {
  it.each(shapes)('matMul %i×%i · %i', (m, k, n) => {
    const a = matrix(m, k);
    const b = matrix(k, n);
    const c = new Float32Array(m * n).fill(99);
    matMul(a, b, c, m, k, n);
    expectClose(c, naive(m, k, n, (i, p) => a[i * k + p], (p, j) => b[p * n + j]));
  });

  it.each(shapes)('matMulTransposeA (%i rows) aᵀ·b', (m, k, n) => {
    const a = matrix(m, k);
    const b = matrix(m, n);
    const c = new Float32Array(k * n).fill(99);
    matMulTransposeA(a, b, c, m, k, n);
    expectClose(c, naive(k, m, n, (p, i) => a[i * k + p], (i, j) => b[i * n + j]));
  });

  it.each(shapes)('matMulTransposeB %i×%i · (%i×…)ᵀ', (m, n, k) => {
    const a = matrix(m, n);
    const b = matrix(k, n);
    const c = new Float32Array(m * k).fill(99);
    matMulTransposeB(a, b, c, m, n, k);
    expectClose(c, naive(m, n, k, (i, j) => a[i * n + j], (j, p) => b[p * n + j]));
  });

  it('adds biases, sums columns, softmaxes rows', () => {
    const rows = Float32Array.from([1, 2, 3, 4, 5, 6]);
    addBias(rows, Float32Array.from([10, 20, 30]), 2, 3);
    expect([...rows]).toEqual([11, 22, 33, 14, 25, 36]);
    const sums = new Float32Array(3);
    columnSums(rows, sums, 2, 3);
    expect([...sums]).toEqual([25, 47, 69]);
    const logits = Float32Array.from([0, Math.log(3), 1000, 1000]);
    softmaxRows(logits, 2, 2);
    expectClose(logits, Float32Array.from([0.25, 0.75, 0.5, 0.5]));
  });
});

describe('js activations', () => {
  it('erf matches known values', () => {
    expect(erf(0)).toBeCloseTo(0, 6);
    expect(erf(0.5)).toBeCloseTo(0.5204998778, 6);
    expect(erf(-1.5)).toBeCloseTo(-0.9661051465, 6);
  });

  it.each(HEAD_ACTIVATIONS)('%s: forward and derivative agree with TF.js', async (name) => {
    await initBackend();
    const z = [-7, -2.5, -0.3, 0.2, 1.7, 5, 8];
    const layer = tf.layers.activation({ activation: name });
    const [forward, gradient] = tf.tidy(() => {
      const input = tf.tensor1d(z);
      const f = (x: tf.Tensor) => layer.apply(x) as tf.Tensor;
      return [f(input).dataSync(), tf.grad(f)(input).dataSync()];
    });
    const act = JS_ACTIVATIONS[name];
    z.forEach((value, i) => {
      const y = act.forward(value);
      expect(y).toBeCloseTo(forward[i], 5);
      expect(act.derivative(value, y)).toBeCloseTo(gradient[i], 4);
    });
  });
});

describe('JsAdam', () => {
  it('takes the same steps as TF.js Adam', async () => {
    await initBackend();
    const start = [0.5, -1.5, 2];
    const gradients = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1], [-0.3, 0.2, 0.2]];
    const param = Float32Array.from(start);
    const adam = new JsAdam([3], 0.01);
    const variable = tf.variable(tf.tensor1d(start));
    const optimizer = tf.train.adam(0.01);
    for (const g of gradients) {
      adam.apply([param], [Float32Array.from(g)]);
      tf.tidy(() => optimizer.applyGradients([{ name: variable.name, tensor: tf.tensor1d(g) }]));
    }
    expectClose(param, variable.dataSync() as Float32Array);
    optimizer.dispose();
    variable.dispose();
  });
});
