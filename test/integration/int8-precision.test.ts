import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClassifyRoutes } from '../../functions/classify/routes.js';
import { pipelineFromConfig } from '../../functions/shared/pipeline.js';
import { configFromEnv, namespaceFor } from '../../functions/shared/runtime.js';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { cosine } from '../../src/engine/onnx/quantize/index.js';
import { decodeSafetensors } from '../../src/features/format/safetensors.js';
import { namespaceId, type FeatureNamespace } from '../../src/features/namespace.js';
import { runTrainingJob } from '../../src/heads/job.js';
import { createJob } from '../../src/jobs/index.js';
import { HeadCache } from '../../src/registry/index.js';
import { FileStore } from '../../src/store/file.js';
import { FASHION_MNIST, photo } from '../helpers/fixtures.js';
import { describeWhen, realWeights } from '../helpers/real-weights.js';
import { imageEvent, parseAnswer, serve } from '../unit/classify-api/events.js';

/**
 * `--precision int8` end to end on DenseNet121 with its real weights: the CLI's features, extract and classify
 * (the default calibration set, then `--calibration`), and heads trained by the real training job on the fp32 and
 * the int8 features of one dataset, each refused by a classify service of the other precision.
 */
const weights = await realWeights();
const PHOTOS = ['eagle', 'baboon', 'butterfly', 'dog'].map((n) => photo(`${n}.jpg`));
const LABELS = ['bag', 'sneaker'];

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The one safetensors file of each written image: its features and metadata. */
function readFeatures(files: Array<{ file: string }>) {
  return files.map(({ file }) => {
    const { tensors, metadata } = decodeSafetensors(readFileSync(file));
    return { data: tensors.features!.data, metadata };
  });
}

describeWhen(weights, 'precision int8 end to end (DenseNet121, real weights)', () => {
  let home: string;
  let work: string;
  const previousHome = process.env.HEADSTART_HOME;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'hs-int8-home-'));
    work = mkdtempSync(join(tmpdir(), 'hs-int8-work-'));
    process.env.HEADSTART_HOME = home;
    await weights.installInto(home);
    // A bucket-like folder: images/fm/<label>/, four Fashion-MNIST images per label.
    for (const label of LABELS) {
      const dir = join(work, 'bucket/images/fm', label);
      mkdirSync(dir, { recursive: true });
      for (const file of readdirSync(join(FASHION_MNIST, 'train', label)).sort().slice(0, 4)) copyFileSync(join(FASHION_MNIST, 'train', label, file), join(dir, file));
    }
  });
  afterAll(() => {
    process.env.HEADSTART_HOME = previousHome;
    if (previousHome === undefined) delete process.env.HEADSTART_HOME;
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('features --precision int8: quantized on the default calibration set, int8 metadata, features within the gate of fp32', async () => {
    // Act
    const fp32 = await run('features', ...PHOTOS, '--model', 'densenet121', '--out', join(work, 'fp32'), '--json');
    const int8 = await run('features', ...PHOTOS, '--model', 'densenet121', '--precision', 'int8', '--out', join(work, 'int8'), '--json');
    // Assess
    expect([fp32.code, int8.code], int8.err).toEqual([0, 0]);
    const [a, b] = [JSON.parse(fp32.out), JSON.parse(int8.out)];
    expect(a.namespace.precision).toBeUndefined();
    expect(b.namespace).toMatchObject({ layer: a.namespace.layer, weightsDigest: a.namespace.weightsDigest, precision: 'int8' });
    const [reference, quantized] = [readFeatures(a.files), readFeatures(b.files)];
    expect(reference.map((f) => f.metadata.precision)).toEqual(['fp32', 'fp32', 'fp32', 'fp32']);
    expect(quantized.map((f) => f.metadata.precision)).toEqual(['int8', 'int8', 'int8', 'int8']);
    const cosines = quantized.map((q, i) => cosine(q.data, reference[i]!.data));
    console.log(`DenseNet121 avg_pool, int8 vs fp32 cosine on the 4 photos: ${cosines.map((c) => c.toFixed(4)).join(', ')}`);
    for (const c of cosines) expect(c).toBeGreaterThanOrEqual(0.98);
    expect(cosines.some((c) => c < 0.99999), 'int8 features are not the fp32 ones').toBe(true);
    // The int8 graph is cached beside the fp32 export with how it was made: the default set's 16 images.
    const records = readdirSync(join(home, 'onnx'), { recursive: true }).map(String).filter((f) => f.endsWith('.int8.onnx.json'));
    expect(records).toHaveLength(1);
    const record = JSON.parse(readFileSync(join(home, 'onnx', records[0]!), 'utf8'));
    expect(record.report).toMatchObject({ method: 'percentile', images: 16 });
    expect(record.report.fidelity.median).toBeGreaterThanOrEqual(0.99);
  }, 360_000); // two DenseNet121 exports and a quantization: 2 minutes on a loaded 2-core machine

  it('extract --precision int8 writes a namespace of its own beside the fp32 one (<layer>@int8), never mixed', async () => {
    const bucket = join(work, 'bucket');
    const fp32 = await run('extract', bucket, '--model', 'densenet121', '--json');
    const int8 = await run('extract', bucket, '--model', 'densenet121', '--precision', 'int8', '--json');
    expect([fp32.code, int8.code], int8.err).toEqual([0, 0]);
    // Same images, other precision: nothing counts as already done.
    expect(JSON.parse(fp32.out)).toMatchObject({ extracted: 8, failed: 0 });
    expect(JSON.parse(int8.out)).toMatchObject({ extracted: 8, failed: 0, alreadyDone: 0 });
    const [model] = readdirSync(join(bucket, 'features'));
    expect(readdirSync(join(bucket, 'features', model!)).sort()).toEqual(['avg_pool', 'avg_pool@int8']);
    const int8Files = readdirSync(join(bucket, 'features', model!, 'avg_pool@int8')).filter((f) => f.endsWith('.safetensors'));
    expect(int8Files).toHaveLength(8);
    for (const f of int8Files) expect(decodeSafetensors(readFileSync(join(bucket, 'features', model!, 'avg_pool@int8', f))).metadata.precision).toBe('int8');
  });

  it('classify --precision int8 --calibration <folder>: the eagle is still a bald eagle', async () => {
    const calibration = join(work, 'calibration');
    mkdirSync(calibration);
    for (const p of PHOTOS) copyFileSync(p, join(calibration, p.split('/').at(-1)!));
    const { code, out, err } = await run('classify', photo('eagle.jpg'), '--model', 'densenet121', '--precision', 'int8', '--calibration', calibration, '--top', '3', '--json');
    expect(code, err).toBe(0);
    const [entry] = JSON.parse(out);
    expect(entry.predictions[0]).toMatchObject({ classIndex: 22 });
    expect(entry.predictions[0].score).toBeGreaterThan(0.8);
    const records = readdirSync(join(home, 'onnx'), { recursive: true }).map(String).filter((f) => f.includes('predictions') && f.endsWith('.int8.onnx.json'));
    expect(JSON.parse(readFileSync(join(home, 'onnx', records[0]!), 'utf8')).report.images).toBe(4);
  }, 240_000);

  it('refuses bad precision flags with the valid values', async () => {
    const bad = await run('features', PHOTOS[0]!, '--model', 'densenet121', '--precision', 'int4', '--out', join(work, 'bad'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("Unknown precision 'int4': expected 'fp32' or 'int8'.");
    const tfjs = await run('features', PHOTOS[0]!, '--model', 'densenet121', '--precision', 'int8', '--engine', 'tfjs', '--out', join(work, 'bad'));
    expect(tfjs.code).toBe(2);
    expect(tfjs.err).toContain("precision 'int8' runs on ONNX Runtime");
  });

  it('a head trained on fp32 features refuses int8 features (409 HeadBaseMismatch), and the reverse', async () => {
    // Prepare: one head per precision, trained by the real job on the features extract wrote above
    const store = new FileStore(join(work, 'bucket'));
    const env = (precision: string) => ({ HEADSTART_BUCKET: 'unused', HEADSTART_MODEL: 'densenet121', HEADSTART_HOME: home, HEADSTART_PRECISION: precision });
    const heads: Record<string, string> = {};
    const namespaces: Record<string, FeatureNamespace> = {};
    for (const precision of ['fp32', 'int8']) {
      namespaces[precision] = await namespaceFor(configFromEnv(env(precision)));
      const job = await createJob(store, { dataset: 'fm', head: { hidden: [], epochs: 3, validationSplit: 0.25 } });
      const done = await runTrainingJob(store, job.jobId, { namespace: namespaces[precision]! });
      expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
      heads[precision] = done.headId!;
    }
    expect(namespaceId(namespaces.int8!)).toBe(`${namespaceId(namespaces.fp32!)}@int8`);
    const image = readFileSync(photo('dog.jpg'));
    for (const [served, other] of [['int8', 'fp32'], ['fp32', 'int8']] as const) {
      const config = configFromEnv(env(served));
      const routes = createClassifyRoutes({
        store,
        defaultModel: config.model,
        createPipeline: (model, cut) => pipelineFromConfig({ ...config, model, cut }, store),
        heads: new HeadCache(store),
        home,
      });
      try {
        const answer = serve(routes.routes);
        // Act
        const refused = parseAnswer(await answer(imageEvent(image, 'image/jpeg', { head: heads[other]! })));
        const accepted = parseAnswer(await answer(imageEvent(image, 'image/jpeg', { head: heads[served]! })));
        // Assess
        expect(refused.status).toBe(409);
        expect(refused.body.error.code).toBe('HeadBaseMismatch');
        expect(refused.body.error.message).toContain(
          `Head '${heads[other]}' was trained on ${other} features (${namespaceId(namespaces[other]!)}), but this service extracts ${served} features ` +
            `(${namespaceId(namespaces[served]!)}); ${other} and ${served} features are never mixed.`,
        );
        expect(refused.body.error.message).toContain(`HEADSTART_PRECISION=${other}`);
        expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
        expect(accepted.body.predictions.map((p: { label: string }) => p.label).sort()).toEqual(LABELS);
      } finally {
        routes.dispose();
      }
    }
  }, 240_000);
});
