import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exportRoutes } from '../../functions/api/routes/export.js';
import { createClassifyRoutes, type ClassifyRoutes } from '../../functions/classify/routes.js';
import { pipelineFromConfig } from '../../functions/shared/pipeline.js';
import { initBackend } from '../../src/engine/backend.js';
import { loadImage } from '../../src/image/load.js';
import { HeadCache } from '../../src/registry/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { apiEvent } from '../helpers/events.js';
import { FASHION_MNIST, PHOTOS } from '../helpers/fixtures.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';
import { serve } from '../unit/classify-api/events.js';

/**
 * The export bundle README's Python example (Pillow resize + onnxruntime), run exactly as the README prints it: the
 * DenseNet121 ImageNet classifier's ONNX bundle from GET /models/{id}/export is unzipped into a folder, each photo
 * (the shared photos, two fashion-MNIST PNGs) copied there as `photo.jpg`, and the README's code block (taken from the README text, not retyped) run there by
 * python3. Its printed top-5 must be POST /classify's: same top-1, probabilities within the README's tolerance. A few
 * lines appended after the README's (never changing them) keep its `probs` and `x` so the test also measures how far
 * Pillow's decode + resize is from headstart's (sharp, then PIL's NEAREST reproduced) on these photos.
 */
const SHARED = join(import.meta.dirname, '../../../shared');
const PHOTO_DIR = existsSync(join(SHARED, 'images')) ? join(SHARED, 'images') : PHOTOS;
/** What the bundle README claims a runtime matching headstart reaches (parity.json's tolerance). */
const TOLERANCE = 1e-4;
/** The README prints probabilities rounded to 4 decimals. */
const PRINTED = 0.5e-4;
const weights = await realWeights();

function pythonMissing(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import PIL, onnxruntime, numpy'], { encoding: 'utf8' });
  if (probe.error) return `python3 is not installed (${probe.error.message})`;
  return probe.status === 0 ? undefined : `python3 lacks Pillow, onnxruntime or numpy (pip install pillow onnxruntime numpy; .ci/run installs them): ${probe.stderr.trim().split('\n').at(-1)}`;
}
const missing = weights.reason ?? pythonMissing();

/** Appended after the README's lines: its results at full precision, and the pixels it fed the model. */
const MEASURE = `
json.dump({'probs': [float(p) for p in probs]}, open('_measure.json', 'w'))
x.tofile('_x.u8')
`;

/** The fenced python block under the README's "## Python: onnxruntime" heading, as it is written there. */
export function readmePython(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Python: onnxruntime'));
  const block = section && /```python\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`the bundle README has no python block under '## Python: onnxruntime':\n${readme}`);
  return block;
}

describeWhen({ reason: missing }, "the export bundle README's Python example (Pillow + onnxruntime) against POST /classify", () => {
  let home: string;
  let work: string;
  let store: MemoryStore;
  let classify: ClassifyRoutes;
  let readme: string;
  let labels: string[];
  /** The shared photos (JPEG), and two fashion-MNIST PNGs (grey, 28×28: grey replicated to RGB, upscaled). */
  const photos = [
    ...readdirSync(PHOTO_DIR)
      .sort()
      .map((name) => ({ name, path: join(PHOTO_DIR, name) })),
    ...['coat', 'sneaker'].map((label) => ({ name: `${label}.png`, path: join(FASHION_MNIST, 'test', label, readdirSync(join(FASHION_MNIST, 'test', label)).sort()[0]!) })),
  ];

  beforeAll(async () => {
    await initBackend();
    home = mkdtempSync(join(tmpdir(), 'hs-readme-py-home-'));
    work = mkdtempSync(join(tmpdir(), 'hs-readme-py-'));
    await weights.installInto(home);
    store = new MemoryStore('readme-python');
    for (const { name, path } of photos) await store.put(`images/photos/_unlabelled/${name}`, readFileSync(path));
    const config = { bucket: store.bucket, model: 'densenet121' as const, home };
    classify = createClassifyRoutes({ store, defaultModel: 'densenet121', createPipeline: (model, cut) => pipelineFromConfig({ ...config, model, cut }, store), heads: new HeadCache(store) });
    // Prepare: the bundle a user downloads, unzipped into a folder as they would.
    const result = await serve(exportRoutes({ store, home }))(apiEvent('GET', '/models/densenet121/export', { query: { format: 'onnx' } }));
    expect(result.statusCode, result.body.slice(0, 300)).toBe(200);
    const files = unzipSync(new Uint8Array(Buffer.from(result.body, 'base64')));
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(work, name), bytes);
    readme = readFileSync(join(work, 'README.md'), 'utf8');
    labels = JSON.parse(readFileSync(join(work, 'labels.json'), 'utf8')) as string[];
  }, 600_000);

  afterAll(() => {
    classify?.dispose();
    for (const dir of [home, work]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints /classify's top-1 and top-5 probabilities for each photo, run verbatim from the README; Pillow's pixels measured against headstart's", async () => {
    const code = readmePython(readme);
    // The README's own words: the model, the labels, Pillow's resize, 5 printed lines.
    expect(code).toContain("Image.open('photo.jpg')");
    expect(code).toContain("ort.InferenceSession('model.onnx')");
    expect(code).toContain('.resize((224, 224), Image.NEAREST)');
    const report: string[] = [];
    let worst = 0;
    for (const { name, path } of photos) {
      // Act: the README's lines in the bundle's folder, the photo where they expect it.
      const dir = join(work, `run-${name}`);
      mkdirSync(dir);
      for (const file of ['model.onnx', 'labels.json']) copyFileSync(join(work, file), join(dir, file));
      copyFileSync(path, join(dir, 'photo.jpg'));
      const printed = execFileSync('python3', ['-c', code + MEASURE], { cwd: dir, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' } })
        .trim()
        .split('\n')
        .map((line) => {
          const at = line.lastIndexOf(' ');
          return { label: line.slice(0, at), score: Number(line.slice(at + 1)) };
        });
      const { probs } = JSON.parse(readFileSync(join(dir, '_measure.json'), 'utf8')) as { probs: number[] };
      const pillow = readFileSync(join(dir, '_x.u8'));

      // Assess: POST /classify on the same image.
      const answer = await serve(classify.routes)(apiEvent('POST', '/classify', { query: { model: 'densenet121', top: '5' }, body: { images: [{ key: `images/photos/_unlabelled/${name}` }] } }));
      expect(answer.statusCode, answer.body).toBe(200);
      const expected = (JSON.parse(answer.body) as { results: Array<{ predictions: Array<{ label: string; score: number }> }> }).results[0]!.predictions;
      expect(printed).toHaveLength(5);
      expect(printed[0]!.label, name).toBe(expected[0]!.label);
      const ranked = probs.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p || a.i - b.i);
      expect(ranked.slice(0, 5).map(({ i }) => labels[i])).toEqual(printed.map((p) => p.label));
      const maxAbs = Math.max(...expected.map((e, r) => Math.abs(ranked[r]!.p - e.score)));
      const printedAbs = Math.max(...expected.map((e, r) => Math.abs(printed[r]!.score - e.score)));
      worst = Math.max(worst, maxAbs);

      const mine = (await loadImage(readFileSync(path), { targetSize: [224, 224], interpolation: 'nearest' })).data;
      let differing = 0;
      let pixelMax = 0;
      for (let i = 0; i < mine.length; i++) {
        const d = Math.abs(mine[i]! - pillow[i]!);
        if (d) differing++;
        pixelMax = Math.max(pixelMax, d);
      }
      expect(pillow.length).toBe(mine.length);
      report.push(`${name}: top-1 ${printed[0]!.label} (${expected[0]!.label} by /classify), max |Δp| top-5 ${maxAbs.toExponential(2)} (printed ${printedAbs.toExponential(2)}), pixels differing ${differing} of ${mine.length} (max ${pixelMax})`);
      expect(printedAbs, name).toBeLessThanOrEqual(TOLERANCE + PRINTED);
      expect(maxAbs, name).toBeLessThanOrEqual(TOLERANCE);
    }
    console.log(`README Python vs /classify (DenseNet121, ${photos.length} images, worst |Δp| ${worst.toExponential(2)}):\n  ${report.join('\n  ')}`);
  }, 300_000);
});
