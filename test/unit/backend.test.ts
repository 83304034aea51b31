import { describe, expect, it } from 'vitest';
import { initBackend, tf, tfjsNodeAvailable } from '../../src/engine/backend.js';

describe('initBackend', () => {
  it('picks tensorflow when tfjs-node resolves, else wasm', async () => {
    const name = await initBackend();
    expect(name).toBe(tfjsNodeAvailable() ? 'tensorflow' : 'wasm');
    expect(tf.getBackend()).toBe(name);
  });

  it('rejects an unknown backend with the valid values', () => {
    expect(() => initBackend('gpu')).toThrow("Unknown backend 'gpu': expected 'tensorflow', 'wasm', 'cpu' or 'auto'.");
  });

  it('computes with the chosen backend', async () => {
    await initBackend();
    const y = tf.tidy(() => tf.tensor2d([[1, 2]]).matMul(tf.tensor2d([[3], [4]])));
    expect(await y.data()).toEqual(new Float32Array([11]));
    y.dispose();
  });
});
