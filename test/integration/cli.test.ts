import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { FASHION_MNIST, photo } from '../helpers/fixtures.js';
import { describeWhen, realWeights, sharedExport } from '../helpers/real-weights.js';

const IMAGES = ['eagle', 'baboon', 'butterfly', 'dog'].map((n) => photo(`${n}.jpg`));
const weights = await realWeights();

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('headstart CLI', () => {
  let home: string;
  let work: string;
  const previousHome = process.env.HEADSTART_HOME;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'hs-cli-home-'));
    work = mkdtempSync(join(tmpdir(), 'hs-cli-work-'));
    process.env.HEADSTART_HOME = home;
  });
  afterAll(() => {
    process.env.HEADSTART_HOME = previousHome;
    if (previousHome === undefined) delete process.env.HEADSTART_HOME;
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('prints the Keras model.summary() table for VGG16', async () => {
    const { code, out } = await run('summary', 'vgg16');
    expect(code).toBe(0);
    expect(out).toContain('Model: "vgg16"');
    expect(out).toMatch(/ block1_conv1 \(Conv2D\)\s+\(None, 224, 224, 64\)\s+1792/);
    expect(out).toMatch(/ predictions \(Dense\)\s+\(None, 1000\)\s+4097000/);
    expect(out).toContain('Total params: 138,357,544');
    expect(out).toContain('Non-trainable params: 0');
  });

  it('answers bad usage with exit code 2 and the valid values', async () => {
    expect((await run('nope')).code).toBe(2);
    const unknown = await run('summary', 'vgg17');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/vgg16.*vgg19.*resnet50.*inception_v3.*mobilenet_v2.*densenet121/);
    const badFlag = await run('classify', IMAGES[0]!, '--model', 'densenet121', '--interpolation', 'cubic');
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toContain("expected 'nearest', 'bilinear', 'bicubic' or 'lanczos'");
  });

  it('fails fast without network, naming the file to place and the import command', async () => {
    const started = Date.now();
    const { code, err } = await run('weights', 'pull', 'resnet50', '--base-url', 'http://127.0.0.1:9/keras');
    expect(code).toBe(1);
    expect(err).toContain('resnet50_weights_tf_dim_ordering_tf_kernels.h5');
    expect(err).toContain('headstart weights import');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  describeWhen(sharedExport(), 'weights import of the shared TF.js export', () => {
    it('imports the folder into the cache with `headstart weights import`', async () => {
      const { code, out, err } = await run('weights', 'import', sharedExport().path, '--model', 'densenet121');
      expect(code, err).toBe(0);
      expect(out).toContain('densenet121');
    });
  });

  describeWhen(weights, 'with DenseNet121 ImageNet weights', () => {
    beforeAll(() => weights.installInto(home));

    it('lists the zoo with the cached weights', async () => {
      const { code, out } = await run('models', '--json');
      expect(code).toBe(0);
      const parsed = JSON.parse(out) as { backend: string; models: Array<{ id: string; weights: string[]; inputSize: number }> };
      expect(parsed.models.map((m) => m.id)).toEqual(['vgg16', 'vgg19', 'resnet50', 'inception_v3', 'mobilenet_v2', 'densenet121']);
      expect(parsed.models.find((m) => m.id === 'densenet121')!.weights).toEqual([expect.stringMatching(/^top@[0-9a-f]{16}$/)]);
      expect(parsed.models.find((m) => m.id === 'inception_v3')!.inputSize).toBe(299);
    });

    it('classifies the fixture photos with the DenseNet121 ImageNet weights (top-1 as Keras)', async () => {
      const { code, out, err } = await run('classify', ...IMAGES, '--model', 'densenet121', '--top', '3', '--json');
      expect(code, err).toBe(0);
      const results = JSON.parse(out) as Array<{ predictions: Array<{ label: string; classIndex: number; score: number }> }>;
      expect(results.map((r) => r.predictions[0]!.label)).toEqual(['bald eagle', 'baboon', 'monarch', 'malamute']);
      expect(results.map((r) => r.predictions[0]!.classIndex)).toEqual([22, 372, 323, 249]);
      for (const r of results) expect(r.predictions).toHaveLength(3);
    });

    it('fails one bad image alone and exits 1', async () => {
      const bad = join(work, 'bad.jpg');
      writeFileSync(bad, 'not an image');
      const { code, out } = await run('classify', bad, IMAGES[0]!, '--model', 'densenet121', '--json');
      expect(code).toBe(1);
      const results = JSON.parse(out) as Array<{ error?: { code: string }; predictions?: Array<{ label: string }> }>;
      expect(results[0]!.error?.code).toBe('NotAnImage');
      expect(results[1]!.predictions![0]!.label).toBe('bald eagle');
    });

    it('writes safetensors and npy feature files that Python and numpy read back equal', async () => {
      const st = await run('features', IMAGES[0]!, IMAGES[1]!, '--model', 'densenet121', '--out', join(work, 'st'));
      const npy = await run('features', IMAGES[0]!, IMAGES[1]!, '--model', 'densenet121', '--out', join(work, 'npy'), '--format', 'npy');
      const half = await run('features', IMAGES[0]!, '--model', 'densenet121', '--out', join(work, 'f16'), '--dtype', 'float16');
      expect([st.code, npy.code, half.code]).toEqual([0, 0, 0]);
      expect(readdirSync(join(work, 'st')).sort()).toEqual(['baboon.safetensors', 'eagle.safetensors']);
      const script = `
import json, struct, sys, numpy as np
def load_st(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    meta = h.pop('__metadata__')
    t = h['features']
    dt = {'F32': '<f4', 'F16': '<f2'}[t['dtype']]
    s, e = t['data_offsets']
    return np.frombuffer(b[8 + n + s:8 + n + e], dtype=dt).reshape(t['shape']), meta
d = sys.argv[1]
out = {}
for name in ['eagle', 'baboon']:
    a, meta = load_st(f'{d}/st/{name}.safetensors')
    b = np.load(f'{d}/npy/{name}.npy')
    out[name] = {'shape': list(a.shape), 'equal': bool(np.array_equal(a, b)), 'argmax': int(a.argmax()), 'meta': meta}
h, hmeta = load_st(f'{d}/f16/eagle.safetensors')
a, _ = load_st(f'{d}/st/eagle.safetensors')
out['f16'] = {'dtype': str(h.dtype), 'maxdiff': float(np.abs(h.astype(np.float32) - a).max()), 'scale': float(np.abs(a).max()), 'meta_dtype': hmeta['dtype']}
print(json.dumps(out))
`;
      const result = JSON.parse(execFileSync('python3', ['-c', script, work], { encoding: 'utf8' }));
      expect(result.eagle).toMatchObject({ shape: [1024], equal: true, meta: { model: 'densenet121', layer: 'avg_pool', preprocess: 'torch', input_size: '224x224', interpolation: 'nearest', dtype: 'float32' } });
      expect(result.baboon.equal).toBe(true);
      expect(result.eagle.argmax).not.toBe(-1);
      expect(result.f16.dtype).toBe('float16');
      expect(result.f16.meta_dtype).toBe('float16');
      expect(result.f16.maxdiff).toBeLessThanOrEqual(result.f16.scale * 1e-3);
    });

    describe('similar and issues on a folder laid out like the bucket', () => {
      // shop: 6 fashion-mnist images of each of 3 labels, one of them also under a second name, and one test image
      // copied in from shop-test (leakage). Extracted once with `headstart extract`.
      const LABELS = ['bag', 'sandal', 'trouser'];
      const model = ['--model', 'densenet121', '--pooling', 'avg', '--engine', 'tfjs'];
      let bucket: string;
      let store: string[];

      beforeAll(async () => {
        bucket = join(work, 'bucket');
        for (const label of LABELS) {
          mkdirSync(join(bucket, 'images/shop', label), { recursive: true });
          mkdirSync(join(bucket, 'images/shop-test', label), { recursive: true });
          for (const file of readdirSync(join(FASHION_MNIST, 'train', label)).sort().slice(0, 6)) copyFileSync(join(FASHION_MNIST, 'train', label, file), join(bucket, 'images/shop', label, file));
          for (const file of readdirSync(join(FASHION_MNIST, 'test', label)).sort().slice(0, 2)) copyFileSync(join(FASHION_MNIST, 'test', label, file), join(bucket, 'images/shop-test', label, file));
        }
        const firstBag = readdirSync(join(bucket, 'images/shop/bag')).sort()[0]!;
        copyFileSync(join(bucket, 'images/shop/bag', firstBag), join(bucket, 'images/shop/bag', `copy-of-${firstBag}`));
        const leaked = readdirSync(join(bucket, 'images/shop-test/sandal')).sort()[0]!;
        copyFileSync(join(bucket, 'images/shop-test/sandal', leaked), join(bucket, 'images/shop/sandal', `leaked-${leaked}`));
        store = ['--store', bucket];
        const extract = await run('extract', bucket, ...model, '--json');
        expect(extract.code, extract.err).toBe(0);
      });

      it('headstart issues: the duplicate and the leak, then the same answer from the cache the API reads', async () => {
        const started = performance.now();
        const first = await run('issues', 'shop', '--against', 'shop-test', ...store, ...model, '--json');
        const ms = performance.now() - started;
        expect(first.code, first.err).toBe(0);
        const issues = JSON.parse(first.out);
        console.log(`headstart issues on ${issues.images} images: ${Math.round(ms)} ms (computeMs ${issues.computeMs})`);
        expect(issues).toMatchObject({ dataset: 'shop', against: 'shop-test', images: 20, cached: false });
        expect(issues.duplicates[0]).toMatchObject({ kind: 'identical', score: 1 });
        expect(issues.duplicates[0].keys.some((k: string) => k.includes('/copy-of-'))).toBe(true);
        expect(issues.leakage[0]).toMatchObject({ key: expect.stringMatching(/^images\/shop\/sandal\/leaked-/), otherKey: expect.stringMatching(/^images\/shop-test\/sandal\//), kind: 'identical' });

        const again = await run('issues', 'shop', '--against', 'shop-test', ...store, ...model);
        expect(again.code, again.err).toBe(0);
        expect(again.out).toMatch(/^shop: 20 images, densenet121@[0-9a-f]{16}\/avg_pool \(from the cache\)/);
        expect(again.out).toMatch(/duplicates: 1\n  1\.000 identical/);
        expect(again.out).toMatch(/leakage into shop-test: 1/);
      });

      it('headstart similar: an image file finds its own label; a key is never its own neighbour', async () => {
        const file = join(bucket, 'images/shop-test/trouser', readdirSync(join(bucket, 'images/shop-test/trouser')).sort()[1]!);
        const byFile = await run('similar', file, '--dataset', 'shop', '--k', '3', ...store, ...model, '--json');
        expect(byFile.code, byFile.err).toBe(0);
        const answer = JSON.parse(byFile.out);
        expect(answer.neighbours).toHaveLength(3);
        expect(answer.neighbours.map((n: { label: string }) => n.label)).toEqual(['trouser', 'trouser', 'trouser']);

        const key = `images/shop/bag/${readdirSync(join(bucket, 'images/shop/bag')).sort().at(-1)}`;
        const byKey = await run('similar', key, '--dataset', 'shop', '--k', '5', ...store, ...model);
        expect(byKey.code, byKey.err).toBe(0);
        const lines = byKey.out.split('\n');
        expect(lines).toHaveLength(5);
        expect(lines.every((l) => /^\d\.\d{4}  \S+\s+images\/shop\//.test(l))).toBe(true);
        expect(byKey.out).not.toContain(key);
      });

      it('answers a key without features, and a missing --dataset, with what to do', async () => {
        const missing = await run('similar', 'images/shop/bag/nope.png', '--dataset', 'shop', ...store, ...model);
        expect(missing.code).toBe(1);
        expect(missing.err).toMatch(/'images\/shop\/bag\/nope\.png' has no cached features yet/);
        const usage = await run('similar', 'images/shop/bag/nope.png', ...store, ...model);
        expect(usage.code).toBe(2);
        expect(usage.err).toMatch(/--dataset <name> is required/);
      });
    });
  });
});
