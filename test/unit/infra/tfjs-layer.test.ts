import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildTfjsLayer,
  LAMBDA_UNZIPPED_LIMIT_BYTES,
  TRAIN_FUNCTION_BUDGET_BYTES,
  type LayerBuildResult,
} from '../../../layers/build-tfjs-layer.js';

const WASM_DIR = 'nodejs/node_modules/@tensorflow/tfjs-backend-wasm/dist/';

// What the train function does on the layer, minus our code: load TF.js and the wasm backend the way Lambda
// resolves them (from nodejs/node_modules), then fit a tiny model.
const PROBE = `
import * as tf from '@tensorflow/tfjs';
await import('@tensorflow/tfjs-backend-wasm');
const ok = await tf.setBackend('wasm');
await tf.ready();
const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, activation: 'softmax', inputShape: [3] })] });
model.compile({ optimizer: tf.train.adam(0.1), loss: 'categoricalCrossentropy' });
const x = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]);
const y = tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2);
const history = await model.fit(x, y, { epochs: 3, verbose: 0 });
console.log(JSON.stringify({ ok, backend: tf.getBackend(), epochs: history.history.loss.length }));
`;

describe('TF.js layer build', () => {
  let dir: string;
  let first: LayerBuildResult;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfjs-layer-'));
    first = buildTfjsLayer({ outFile: join(dir, 'a.zip') });
  });

  it('is reproducible: two builds give the same bytes', () => {
    const second = buildTfjsLayer({ outFile: join(dir, 'b.zip') });

    expect(second.sha256).toBe(first.sha256);
    expect(createHash('sha256').update(readFileSync(first.zipPath)).digest('hex')).toBe(first.sha256);
  });

  it('holds the Node entry points and the wasm binaries under nodejs/node_modules, sorted', () => {
    expect(first.entries).toEqual([...first.entries].sort());
    expect(first.entries.every((e) => e.startsWith('nodejs/node_modules/'))).toBe(true);
    expect(first.entries).toEqual(
      expect.arrayContaining([
        'nodejs/node_modules/@tensorflow/tfjs/package.json',
        'nodejs/node_modules/@tensorflow/tfjs/dist/tf.node.js',
        'nodejs/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js',
        `${WASM_DIR}tf-backend-wasm.node.js`,
        `${WASM_DIR}tfjs-backend-wasm.wasm`,
        `${WASM_DIR}tfjs-backend-wasm-simd.wasm`,
        `${WASM_DIR}tfjs-backend-wasm-threaded-simd.wasm`,
      ]),
    );
  });

  it('leaves out what Node never loads: source maps, browser bundles, type packages, CLI-only dependencies', () => {
    expect(first.entries.filter((e) => e.endsWith('.map'))).toEqual([]);
    expect(first.entries.filter((e) => /\.(min|es2017|fesm)\.js$/.test(e))).toEqual([]);
    expect(first.entries.filter((e) => /node_modules\/(@types|yargs|core-js|chalk)\//.test(e))).toEqual([]);
  });

  it('fits the Lambda limit with room for the function bundle', () => {
    expect(first.unzippedBytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES - TRAIN_FUNCTION_BUDGET_BYTES);
    expect(first.zippedBytes).toBe(statSync(first.zipPath).size);
    // Measured: ~9 MB unzipped, ~1.8 MB zipped; the published @tensorflow/tfjs alone is ~140 MB.
    expect(first.unzippedBytes).toBeLessThan(20_000_000);
  });

  it('reports only optional requires as unresolved', () => {
    expect(new Set(first.unresolved.map((u) => u.specifier))).toEqual(new Set(['xor4096', 'encoding']));
  });

  it('is enough to train a model on the wasm backend once unzipped', () => {
    const root = mkdtempSync(join(tmpdir(), 'tfjs-layer-run-'));
    execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', first.zipPath, root]);
    writeFileSync(join(root, 'nodejs', 'probe.mjs'), PROBE);

    const output = execFileSync(process.execPath, ['probe.mjs'], { cwd: join(root, 'nodejs'), encoding: 'utf8' });

    expect(JSON.parse(output)).toEqual({ ok: true, backend: 'wasm', epochs: 3 });
  });
});
