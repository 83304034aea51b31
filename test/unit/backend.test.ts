import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { initBackend, installedTfjsNodePackages, TFJS_NODE_PACKAGES, tf, tfjsNodeAvailable, type ModuleResolver } from '../../src/engine/backend.js';

/** A resolver that knows only these packages, and throws like `require.resolve` for anything else. */
function resolverOf(...installed: string[]): ModuleResolver {
  return (id) => {
    if (installed.includes(id)) return `/node_modules/${id}/dist/index.js`;
    throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
  };
}

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

describe('tfjs-node detection', () => {
  it('tries the CUDA build before the CPU one', () => {
    expect(TFJS_NODE_PACKAGES).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
  });

  it.each([
    [[], []],
    [['@tensorflow/tfjs-node'], ['@tensorflow/tfjs-node']],
    [['@tensorflow/tfjs-node-gpu'], ['@tensorflow/tfjs-node-gpu']],
    [['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'], ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']],
  ])('with %j installed, tries %j in that order', (installed, expected) => {
    const resolve = resolverOf(...installed);

    expect(installedTfjsNodePackages(resolve)).toEqual(expected);
    expect(tfjsNodeAvailable(resolve)).toBe(expected.length > 0);
  });

  it('ignores packages that are not bindings', () => {
    expect(tfjsNodeAvailable(resolverOf('@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'))).toBe(false);
  });

  it('agrees with require.resolve on this machine', () => {
    const require = createRequire(import.meta.url);
    const resolvable = TFJS_NODE_PACKAGES.filter((name) => {
      try {
        require.resolve(name);
        return true;
      } catch {
        return false;
      }
    });

    expect(installedTfjsNodePackages()).toEqual(resolvable);
    expect(tfjsNodeAvailable()).toBe(resolvable.length > 0);
  });
});
