import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLocalApi } from '../../functions/api/local.js';
import { exportRoutes } from '../../functions/api/routes/export.js';
import { createClassifyRoutes, type ClassifyRoutes } from '../../functions/classify/routes.js';
import { pipelineFromConfig } from '../../functions/shared/pipeline.js';
import { initBackend, tf } from '../../src/engine/backend.js';
import { buildBundle, openExportSource, type ExportBundle, type ParityFile } from '../../src/export/index.js';
import { PIL_NEAREST_JS } from '../../src/export/readme.js';
import { Ingestor } from '../../src/features/ingest.js';
import type { FeaturePipeline } from '../../src/features/pipeline.js';
import { loadImage } from '../../src/image/load.js';
import { getHead, HeadCache, loadHead, publishHead } from '../../src/registry/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { PHOTOS } from '../helpers/fixtures.js';
import { apiEvent, lambdaContext, parseResult } from '../helpers/events.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';
import { FakeSigner } from '../unit/api/fixtures.js';
import { serve } from '../unit/classify-api/events.js';

/**
 * Issue 18's parity check: a head trained on cached fashion-mnist-small features (head "auto": standardization and
 * temperature folded into its Dense layers) and the plain DenseNet121 ImageNet classifier, exported through
 * GET /models/{id}/export and run outside headstart — the ONNX graph by Python onnxruntime, the TF.js bundle by TF.js in
 * this process on pixels resized the way the bundle's README says — against POST /classify on the same images: same
 * top-1, probabilities within 1e-4. The images: ../shared's photos and fashion-mnist-small beside the checkout, else the
 * project's own copies (test/fixtures). Kept small (5 train / 3 test images per label) to stay near a minute.
 */
const SHARED = join(import.meta.dirname, '../../../shared');
const FMNIST = existsSync(join(SHARED, 'datasets/fashion-mnist-small')) ? join(SHARED, 'datasets/fashion-mnist-small') : join(import.meta.dirname, '../fixtures/datasets/fashion-mnist-small');
const PHOTO_DIR = existsSync(join(SHARED, 'images')) ? join(SHARED, 'images') : PHOTOS;
const PER_LABEL = { train: 5, test: 3 };
const TOLERANCE = 1e-4;
/** An auto head (standardization and temperature folded into its Dense layers) with a small search, to keep the test short. */
const AUTO_HEAD = { type: 'auto', folds: 3, linearC: [0.1, 1], mlpUnits: [32] };
const weights = await realWeights();

function onnxruntimeMissing(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import onnxruntime, numpy'], { encoding: 'utf8' });
  if (probe.error) return `python3 is not installed (${probe.error.message})`;
  return probe.status === 0 ? undefined : 'python3 has no onnxruntime (pip install onnxruntime; .ci/run installs it)';
}
const pythonMissing = onnxruntimeMissing();
if (pythonMissing) console.warn(`export parity: the Python onnxruntime half skips: ${pythonMissing}`);

/** The README's ten lines, minus Pillow: headstart's decoded pixels in, probabilities out; and parity.json checked. */
const PYTHON = `
import json, sys, base64, numpy as np, onnxruntime as ort
model, pixels, n, size, out, parity = sys.argv[1:7]
options = ort.SessionOptions(); options.intra_op_num_threads = 2
session = ort.InferenceSession(model, options, providers=['CPUExecutionProvider'])
assert session.get_inputs()[0].type == 'tensor(uint8)', session.get_inputs()[0].type
x = np.fromfile(pixels, dtype=np.uint8).reshape(int(n), int(size), int(size), 3)
np.concatenate([session.run(['probabilities'], {'image': x[i:i + 8]})[0] for i in range(0, len(x), 8)]).astype(np.float32).tofile(out)
p = json.load(open(parity)); h, w = p['input']['shape'][1:3]
ref = np.stack([np.frombuffer(base64.b64decode(c['pixels']), dtype=np.uint8).reshape(h, w, 3) for c in p['cases']])
print(json.dumps({'parityMaxAbs': float(np.abs(session.run(['probabilities'], {'image': ref})[0] - np.array([c['probabilities'] for c in p['cases']])).max())}))
`;

interface TestImage {
  key: string;
  name: string;
  bytes: Buffer;
}

function fmnistFiles(split: 'train' | 'test'): Array<{ label: string; name: string; path: string }> {
  const root = join(FMNIST, split);
  return readdirSync(root)
    .sort()
    .flatMap((label) =>
      readdirSync(join(root, label))
        .sort()
        .slice(0, PER_LABEL[split])
        .map((name) => ({ label, name, path: join(root, label, name) })),
    );
}

type Scores = Array<{ label: string; score: number }>;

/** Exported probabilities as /classify ranks them: `top` labels by decreasing score, ties by label order. */
function ranked(row: Float32Array, labels: readonly string[], top: number): Scores {
  return labels
    .map((_, i) => i)
    .sort((a, b) => row[b]! - row[a]! || a - b)
    .slice(0, top)
    .map((i) => ({ label: labels[i]!, score: row[i]! }));
}

/** Over all images: top-1 agreements and the largest |Δp| over the labels /classify answered. */
function compare(exported: Float32Array[], labels: readonly string[], classified: Scores[]): { agree: number; maxAbs: number } {
  let agree = 0;
  let maxAbs = 0;
  exported.forEach((row, i) => {
    const expected = classified[i]!;
    if (ranked(row, labels, 1)[0]!.label === expected[0]!.label) agree++;
    // By label where labels are unique (a head); ImageNet has repeated first names ('crane'), so by rank there.
    const byLabel = new Set(labels).size === labels.length;
    const mine = ranked(row, labels, expected.length);
    expected.forEach((p, r) => {
      const score = byLabel ? row[labels.indexOf(p.label)]! : mine[r]!.score;
      maxAbs = Math.max(maxAbs, Math.abs(score - p.score));
    });
  });
  return { agree, maxAbs };
}

function rows(data: Float32Array, n: number): Float32Array[] {
  const width = data.length / n;
  return Array.from({ length: n }, (_, i) => data.slice(i * width, (i + 1) * width));
}

describeWhen(weights, 'exported bundles (DenseNet121 + an auto head on fashion-mnist-small) against POST /classify', () => {
  let home: string;
  let work: string;
  let store: MemoryStore;
  let pipeline: FeaturePipeline;
  let classify: ClassifyRoutes;
  let api: ReturnType<typeof createLocalApi>;
  let headId: string;
  const images: TestImage[] = [];
  const exportGet = (id: string, format: string) => serve(exportRoutes({ store, home }))(apiEvent('GET', `/models/${id}/export`, { query: { format } }));

  beforeAll(async () => {
    await initBackend();
    home = mkdtempSync(join(tmpdir(), 'hs-export-home-'));
    work = mkdtempSync(join(tmpdir(), 'hs-export-'));
    await weights.installInto(home);
    store = new MemoryStore('export-densenet');
    const config = { bucket: store.bucket, model: 'densenet121', home };
    pipeline = await pipelineFromConfig(config, store);
    // Prepare: cached features of the training images, and a head trained on them with the defaults (head "auto").
    const train = fmnistFiles('train');
    for (const f of train) await store.put(`images/fmnist/${f.label}/${f.name}`, readFileSync(f.path));
    await new Ingestor(store, pipeline).ingest(train.map((f) => ({ key: `images/fmnist/${f.label}/${f.name}` })));
    api = createLocalApi({ store, namespace: async () => pipeline.namespace, uploads: new FakeSigner() });
    const started = parseResult(await api.handler(apiEvent('POST', '/train', { body: { dataset: 'fmnist', head: AUTO_HEAD } }), lambdaContext()));
    expect(started.status).toBe(202);
    await api.launcher.idle();
    const job = parseResult(await api.handler(apiEvent('GET', `/jobs/${started.body.jobId}`), lambdaContext())).body;
    expect(job.status).toBe('succeeded');
    headId = job.headId;

    for (const f of fmnistFiles('test')) images.push({ key: `images/fmnist-test/${f.label}/${f.name}`, name: `${f.label}/${f.name}`, bytes: readFileSync(f.path) });
    for (const name of readdirSync(PHOTO_DIR).sort()) images.push({ key: `images/photos/_unlabelled/${name}`, name, bytes: readFileSync(join(PHOTO_DIR, name)) });
    for (const image of images) await store.put(image.key, image.bytes);
    classify = createClassifyRoutes({
      store,
      defaultModel: 'densenet121',
      createPipeline: (model, cut) => pipelineFromConfig({ ...config, model, cut }, store),
      heads: new HeadCache(store),
    });
  }, 600_000);

  afterAll(async () => {
    classify?.dispose();
    pipeline?.dispose();
    await api?.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  /** POST /classify on these images by key, 16 a request: each image's ranked scores. */
  async function classified(subset: readonly TestImage[], query: Record<string, string>): Promise<Scores[]> {
    const out: Scores[] = [];
    for (let i = 0; i < subset.length; i += 16) {
      const batch = subset.slice(i, i + 16).map((image) => ({ key: image.key }));
      const result = await serve(classify.routes)(apiEvent('POST', '/classify', { query, body: { images: batch } }));
      const body = JSON.parse(result.body);
      expect(result.statusCode, result.body).toBe(200);
      out.push(...body.results.map((r: { predictions: Scores }) => r.predictions));
    }
    return out;
  }

  /** headstart's decoded, resized pixels of each image (what the bundle's input is), one buffer [N, 224, 224, 3]. */
  async function pixelsOf(subset: readonly TestImage[]): Promise<Uint8Array> {
    const decoded = await Promise.all(subset.map((i) => loadImage(i.bytes, { targetSize: [224, 224], interpolation: 'nearest' })));
    return Buffer.concat(decoded.map((d) => d.data));
  }

  /** The bundle README's JS resize, run as written, on each full-size decoded image (what `tf.browser.fromPixels` gives). */
  async function readmeResize(subset: readonly TestImage[]): Promise<Float32Array> {
    const resize = new Function('tf', `${PIL_NEAREST_JS}\nreturn resize;`)(tf) as (x: tf.Tensor, size: [number, number]) => tf.Tensor;
    const decoded = await Promise.all(subset.map((i) => loadImage(i.bytes)));
    const batches = decoded.map((d) => tf.tidy(() => resize(tf.tensor3d(d.data, [d.height, d.width, 3], 'int32'), [224, 224]).dataSync()));
    const out = new Float32Array(subset.length * 224 * 224 * 3);
    batches.forEach((b, i) => out.set(b, i * b.length));
    return out;
  }

  /** Python onnxruntime on the bundle's model.onnx: probabilities per image, and parity.json's own check. */
  function runPython(bundle: ExportBundle, pixels: Uint8Array, n: number, tag: string): { probabilities: Float32Array[]; parityMaxAbs: number } {
    const files = unzipSync(bundle.zip);
    const dir = join(work, tag);
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'model.onnx'), files['model.onnx']!);
    writeFileSync(join(dir, 'parity.json'), files['parity.json']!);
    writeFileSync(join(dir, 'pixels.u8'), pixels);
    const output = execFileSync('python3', ['-c', PYTHON, join(dir, 'model.onnx'), join(dir, 'pixels.u8'), String(n), '224', join(dir, 'probs.f32'), join(dir, 'parity.json')], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '2' },
    });
    const probs = readFileSync(join(dir, 'probs.f32'));
    return { probabilities: rows(new Float32Array(probs.buffer, probs.byteOffset, probs.byteLength / 4), n), parityMaxAbs: JSON.parse(output.trim().split('\n').at(-1)!).parityMaxAbs };
  }

  /** TF.js in this process on the bundle's model.json + weights: probabilities per image, batches of 8. */
  async function runTfjs(bundle: ExportBundle, pixels: Float32Array, n: number): Promise<Float32Array[]> {
    const files = unzipSync(bundle.zip);
    const modelJson = JSON.parse(new TextDecoder().decode(files['model.json']!));
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: files['model.weights.bin']!.slice().buffer }),
    );
    const size = 224 * 224 * 3;
    const out: Float32Array[] = [];
    for (let i = 0; i < n; i += 8) {
      const count = Math.min(8, n - i);
      const probs = tf.tidy(() => (model.predict(tf.tensor4d(pixels.subarray(i * size, (i + count) * size), [count, 224, 224, 3])) as tf.Tensor).dataSync() as Float32Array);
      out.push(...rows(probs, count));
    }
    model.dispose();
    return out;
  }

  async function zipOf(id: string, format: string): Promise<ExportBundle> {
    const result = await exportGet(id, format);
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({ 'content-type': 'application/zip', 'content-disposition': `attachment; filename="${id}-${format}.zip"` });
    const zip = new Uint8Array(Buffer.from(result.body, 'base64'));
    return { format: format as ExportBundle['format'], fileName: `${id}-${format}.zip`, files: unzipSync(zip), zip, parity: { maxAbsDifference: NaN } };
  }

  it('the head: GET /models/{id}/export in both formats; Python onnxruntime and TF.js give /classify?head= top-1 and probabilities within 1e-4', async () => {
    const onnx = await zipOf(headId, 'onnx');
    const tfjs = await zipOf(headId, 'tfjs');
    const classes = JSON.parse(new TextDecoder().decode(onnx.files['labels.json']!)) as string[];
    const expected = await classified(images, { head: headId, top: String(classes.length) });
    const pixels = await pixelsOf(images);
    const resized = await readmeResize(images);
    // The README's JS resize picks headstart's pixels exactly.
    expect(resized.every((v, i) => v === pixels[i])).toBe(true);

    const parity = JSON.parse(new TextDecoder().decode(onnx.files['parity.json']!)) as ParityFile;
    expect(parity.cases).toHaveLength(3);
    // TF.js (wasm here) is the slow runtime: the photos and one test image per label.
    const subset = images.map((image, i) => ({ image, i })).filter(({ image }, j, all) => !image.key.startsWith('images/fmnist-test/') || all.findIndex((o) => o.image.key.split('/')[2] === image.key.split('/')[2]) === j);
    const size = 224 * 224 * 3;
    const subsetPixels = new Float32Array(subset.length * size);
    subset.forEach(({ i }, j) => subsetPixels.set(resized.subarray(i * size, (i + 1) * size), j * size));
    const tfjsResult = compare(await runTfjs(tfjs, subsetPixels, subset.length), classes, subset.map(({ i }) => expected[i]!));
    const line = [`head ${headId} (${classes.length} classes): TF.js ${tfjsResult.agree}/${subset.length} top-1, max |Δp| ${tfjsResult.maxAbs.toExponential(2)}`];
    line.push(`bundles: onnx ${(onnx.zip.length / 1e6).toFixed(2)} MB, tfjs ${(tfjs.zip.length / 1e6).toFixed(2)} MB`);
    expect(tfjsResult.agree).toBe(subset.length);
    expect(tfjsResult.maxAbs).toBeLessThan(TOLERANCE);
    if (!pythonMissing) {
      const python = runPython(onnx, pixels, images.length, 'head');
      const onnxResult = compare(python.probabilities, classes, expected);
      line.push(`Python onnxruntime ${onnxResult.agree}/${images.length} top-1 (fashion-mnist and photos), max |Δp| ${onnxResult.maxAbs.toExponential(2)}; parity.json ${python.parityMaxAbs.toExponential(2)}`);
      expect(onnxResult.agree).toBe(images.length);
      expect(onnxResult.maxAbs).toBeLessThan(TOLERANCE);
      expect(python.parityMaxAbs).toBeLessThan(parity.tolerance);
    }
    console.log(`export parity: ${line.join('; ')}`);
  }, 300_000);

  it('the DenseNet121 ImageNet classifier: both runtimes give /classify top-1 (bald eagle, …) and its top-5 probabilities within 1e-4', async () => {
    const photos = images.filter((i) => i.key.startsWith('images/photos/'));
    const expected = await classified(photos, { model: 'densenet121', top: '5' });
    expect(photos.map((p, i) => [p.name, expected[i]![0]!.label])).toContainEqual(['eagle.jpg', 'bald eagle']);
    const source = await openExportSource(store, 'densenet121', { home });
    let onnx: ExportBundle;
    let tfjs: ExportBundle;
    try {
      [onnx, tfjs] = [await buildBundle(source, 'onnx'), await buildBundle(source, 'tfjs')];
    } finally {
      source.dispose();
    }
    const labels = JSON.parse(new TextDecoder().decode(onnx.files['labels.json']!)) as string[];
    expect(labels).toHaveLength(1000);
    const pixels = await pixelsOf(photos);
    const tfjsResult = compare(await runTfjs(tfjs, Float32Array.from(pixels), photos.length), labels, expected);
    const line = [`densenet121 (${photos.length} photos): TF.js ${tfjsResult.agree}/${photos.length} top-1, max |Δp| ${tfjsResult.maxAbs.toExponential(2)}`];
    line.push(`bundles: onnx ${(onnx.zip.length / 1e6).toFixed(2)} MB, tfjs ${(tfjs.zip.length / 1e6).toFixed(2)} MB`);
    expect(tfjsResult.agree).toBe(photos.length);
    expect(tfjsResult.maxAbs).toBeLessThan(TOLERANCE);
    if (!pythonMissing) {
      const python = runPython(onnx, pixels, photos.length, 'classifier');
      const onnxResult = compare(python.probabilities, labels, expected);
      line.push(`Python onnxruntime ${onnxResult.agree}/${photos.length} top-1, max |Δp| ${onnxResult.maxAbs.toExponential(2)}; parity.json ${python.parityMaxAbs.toExponential(2)}`);
      expect(onnxResult.agree).toBe(photos.length);
      expect(onnxResult.maxAbs).toBeLessThan(TOLERANCE);
    }
    console.log(`export parity: ${line.join('; ')}`);
  }, 300_000);

  it('409 HeadBaseMismatch for a head trained on other DenseNet121 weights than the ones here', async () => {
    const { model, head } = await loadHead(store, headId);
    const { metrics } = await getHead(store, headId);
    const { files: _files, format: _format, formatVersion: _version, ...info } = head;
    await publishHead(store, { model, info: { ...info, headId: 'other-weights', base: { ...head.base, weightsDigest: '00000000deadbeef' } }, metrics });
    model.dispose();
    const result = parseResult(await exportGet('other-weights', 'onnx'));
    expect(result.status).toBe(409);
    expect(result.body.error.code).toBe('HeadBaseMismatch');
    expect(result.body.error.message).toContain('00000000deadbeef');
  }, 120_000);
});
