/**
 * Issue 20's real check: DenseNet121 (../shared weights, global average pooling, 1,024 features) on
 * ../shared/datasets/fashion-mnist-small, fp32 and int8 features from the same images, and the test accuracy of
 * one head per precision (nearest class mean on L2-normalised features; trained on train/, scored on test/).
 * Usage: node bin/run-ts.js bench/int8-accuracy.ts [--method minmax|percentile|entropy] [--calibration 32] [--limit N]
 */
import { readdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend.js';
import { exportToOnnx } from '../src/engine/onnx/export.js';
import { OnnxModel } from '../src/engine/onnx/session.js';
import { cosine, quantizeOnnx, type CalibrationBatch, type CalibrationMethod } from '../src/engine/onnx/quantize/index.js';
import { loadImage, preprocessInto } from '../src/image/index.js';
import { loadModel } from '../src/weights/index.js';

const SHARED = resolve(import.meta.dirname, '../../shared');
const DATASET = join(SHARED, 'datasets/fashion-mnist-small');
const SIZE = 224 * 224 * 3;
const { values } = parseArgs({ options: { method: { type: 'string', default: 'percentile' }, calibration: { type: 'string', default: '32' }, limit: { type: 'string' } } });

async function listSplit(split: string): Promise<Array<{ file: string; label: number }>> {
  const classes = (await readdir(join(DATASET, split))).sort();
  const out: Array<{ file: string; label: number }> = [];
  for (const [label, c] of classes.entries()) for (const f of (await readdir(join(DATASET, split, c))).sort()) out.push({ file: join(DATASET, split, c, f), label });
  return out;
}

async function batchOf(files: readonly string[]): Promise<CalibrationBatch> {
  const data = new Float32Array(files.length * SIZE);
  for (const [i, f] of files.entries()) preprocessInto((await loadImage(f, { targetSize: [224, 224] })).data, data, i * SIZE, 'torch');
  return { data, dims: [files.length, 224, 224, 3] };
}

async function extract(model: OnnxModel, files: readonly string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < files.length; i += 8) {
    const batch = await batchOf(files.slice(i, i + 8));
    const { data } = await model.run(batch.data, batch.dims);
    for (let j = 0; j < batch.dims[0]; j++) out.push(data.slice(j * 1024, (j + 1) * 1024));
  }
  return out;
}

function normalise(v: Float32Array): Float32Array {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

/** Nearest class mean on L2-normalised features: test accuracy in percent. */
function ncmAccuracy(train: Float32Array[], trainLabels: number[], test: Float32Array[], testLabels: number[]): number {
  const classes = Math.max(...trainLabels) + 1;
  const means = Array.from({ length: classes }, () => new Float32Array(train[0]!.length));
  train.forEach((v, i) => normalise(v).forEach((x, d) => (means[trainLabels[i]!]![d]! += x)));
  const unit = means.map(normalise);
  const correct = test.filter((v, i) => {
    const u = normalise(v);
    const scores = unit.map((m) => m.reduce((s, x, d) => s + x * u[d]!, 0));
    return scores.indexOf(Math.max(...scores)) === testLabels[i];
  }).length;
  return (100 * correct) / test.length;
}

await initBackend();
const limit = values.limit ? Number(values.limit) : Infinity;
const pick = <T>(xs: T[]) => (Number.isFinite(limit) ? xs.filter((_, i) => i % Math.ceil(xs.length / limit) === 0) : xs);
const [train, test] = [pick(await listSplit('train')), pick(await listSplit('test'))];
const { model } = await loadModel('densenet121', { weights: join(SHARED, 'models/densenet121'), includeTop: false, pooling: 'avg', inputShape: [224, 224, 3] });
const fp32 = exportToOnnx(model);
model.dispose();
// Calibration: the dataset's own training images, spread over the classes.
const calibrationFiles = train.filter((_, i) => i % Math.floor(train.length / Number(values.calibration)) === 0).slice(0, Number(values.calibration)).map((t) => t.file);
const calibration: CalibrationBatch[] = [];
for (let i = 0; i < calibrationFiles.length; i += 8) calibration.push(await batchOf(calibrationFiles.slice(i, i + 8)));
let started = performance.now();
const { model: int8, report } = await quantizeOnnx(fp32, calibration, { method: values.method as CalibrationMethod });
console.log(`quantized in ${((performance.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify({ ...report, fidelity: { median: report.fidelity.median, min: report.fidelity.min } })}`);
const sessions = { fp32: await OnnxModel.create(fp32), int8: await OnnxModel.create(int8) };
const features: Record<string, { train: Float32Array[]; test: Float32Array[] }> = {};
for (const [name, session] of Object.entries(sessions)) {
  started = performance.now();
  features[name] = { train: await extract(session, train.map((t) => t.file)), test: await extract(session, test.map((t) => t.file)) };
  console.log(`${name}: ${train.length + test.length} images in ${((performance.now() - started) / 1000).toFixed(0)} s (load ${loadavg()[0]!.toFixed(1)})`);
  session.dispose();
}
const cosines = features.fp32!.test.map((v, i) => cosine(features.int8!.test[i]!, v)).sort((a, b) => a - b);
const accuracy = Object.fromEntries(
  Object.entries(features).map(([name, f]) => [name, ncmAccuracy(f.train, train.map((t) => t.label), f.test, test.map((t) => t.label))]),
);
console.log(JSON.stringify({
  method: values.method,
  train: train.length,
  test: test.length,
  accuracy,
  differencePoints: accuracy.int8! - accuracy.fp32!,
  testCosine: { median: cosines[cosines.length >> 1], min: cosines[0] },
}));
