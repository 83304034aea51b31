import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { exportCached } from '../../../src/engine/onnx/cache.js';
import { EXPORTER_VERSION, exportToOnnx } from '../../../src/engine/onnx/export.js';
import { OnnxModel } from '../../../src/engine/onnx/session.js';
import { InvalidArgumentError } from '../../../src/errors.js';

function smallModel(): tf.LayersModel {
  return tf.sequential({
    layers: [tf.layers.conv2d({ inputShape: [6, 6, 3], filters: 2, kernelSize: 3 }), tf.layers.globalAveragePooling2d({})],
  });
}

describe('exportCached', () => {
  let cacheDir: string;
  let model: tf.LayersModel;
  const key = 'tiny@0123abcd/avg_pool';

  beforeAll(async () => {
    await initBackend();
    model = smallModel();
  });
  afterAll(() => model.dispose());
  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'headstart-onnx-cache-'));
  });
  afterEach(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('writes <cacheDir>/onnx/<key>.onnx with a record beside it, and nothing else', async () => {
    // Act
    const result = await exportCached(model, { cacheDir, key });
    // Assess
    const path = join(cacheDir, 'onnx', 'tiny@0123abcd', 'avg_pool.onnx');
    expect(result).toEqual({ path, reused: false });
    expect(Buffer.compare(await readFile(path), exportToOnnx(model))).toBe(0);
    expect(JSON.parse(await readFile(`${path}.json`, 'utf8'))).toMatchObject({ key, opset: 17, exporterVersion: EXPORTER_VERSION, bytes: (await stat(path)).size });
    expect((await readdir(join(cacheDir, 'onnx', 'tiny@0123abcd'))).sort()).toEqual(['avg_pool.onnx', 'avg_pool.onnx.json']);
    const session = await OnnxModel.create(path);
    expect(session.outputs[0].shape).toEqual(['N', 2]);
    session.dispose();
  });

  it('reuses the file on the next call without writing it again', async () => {
    const first = await exportCached(model, { cacheDir, key });
    const before = await stat(first.path);
    const second = await exportCached(model, { cacheDir, key });
    expect(second).toEqual({ path: first.path, reused: true });
    expect((await stat(first.path)).mtimeMs).toBe(before.mtimeMs);
  });

  it('shares one export between concurrent calls for a key', async () => {
    const results = await Promise.all([exportCached(model, { cacheDir, key }), exportCached(model, { cacheDir, key })]);
    expect(results.map((r) => r.reused)).toEqual([false, false]);
    expect(results[0]).toBe(results[1]);
  });

  it('exports again when the record is missing, from another exporter version or opset, or the file was cut short', async () => {
    const { path } = await exportCached(model, { cacheDir, key });
    const record = JSON.parse(await readFile(`${path}.json`, 'utf8')) as Record<string, unknown>;

    await rm(`${path}.json`);
    expect((await exportCached(model, { cacheDir, key })).reused).toBe(false);

    await writeFile(`${path}.json`, JSON.stringify({ ...record, exporterVersion: EXPORTER_VERSION - 1 }));
    expect((await exportCached(model, { cacheDir, key })).reused).toBe(false);

    expect((await exportCached(model, { cacheDir, key, opset: 13 })).reused).toBe(false);
    expect((await exportCached(model, { cacheDir, key, opset: 13 })).reused).toBe(true);

    await writeFile(path, new Uint8Array(10));
    expect((await exportCached(model, { cacheDir, key, opset: 13 })).reused).toBe(false);
  });

  it.each(['', '../escape', 'a//b', '/abs', 'a/./b', 'sp ace', '.hidden', 'a\\b'])('rejects the key %j', async (bad) => {
    await expect(exportCached(model, { cacheDir, key: bad })).rejects.toThrow(InvalidArgumentError);
    await expect(exportCached(model, { cacheDir, key: bad })).rejects.toThrow(`Invalid ONNX cache key '${bad}'`);
  });
});
