import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONNX_WORKER_BUNDLE_ENTRY } from '../../../src/engine/onnx/worker-thread.js';
import { tinyOnnx } from './helpers.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const DOCKERFILE = join(ROOT, 'docker/extract/Dockerfile');

/** The Lambda image's bundle command (docker/extract/Dockerfile runs docker/extract/bundle.mjs): its script and entries. */
async function dockerBundle(): Promise<{ script: string; entries: Record<string, string> }> {
  const text = (await readFile(DOCKERFILE, 'utf8')).replace(/\\\n/g, ' ');
  const command = /^RUN node (docker\/extract\/bundle\.mjs) (.*)$/m.exec(text);
  if (!command) throw new Error(`no 'RUN node docker/extract/bundle.mjs' line in ${DOCKERFILE}`);
  const [, script, args] = command as unknown as [string, string, string];
  const words = args.trim().split(/\s+/).slice(1).map((w) => w.replace(/^"|"$/g, ''));
  return { script, entries: Object.fromEntries(words.map((w) => w.split(/=(.*)/s, 2) as [string, string])) };
}

/** A handler stand-in: loads a model with OnnxModel from the bundle and prints what it computed. */
const PROBE = `
import { readFile } from 'node:fs/promises';
import { OnnxModel } from '../src/engine/onnx/session.js';
const model = await OnnxModel.create(new Uint8Array(await readFile(process.argv[2])));
const { data } = await model.run(new Float32Array([1, 2, 3, 4, 5, 6]), [1, 2, 3]);
console.log(JSON.stringify(Array.from(data)));
model.dispose();
`;

describe('the ONNX Runtime worker in a bundle built as the Lambda image builds it', () => {
  let dir: string;
  let modelPath: string;

  beforeAll(async () => {
    // Inside the repository, so that the bundle's external packages resolve from node_modules as in the image.
    dir = await mkdtemp(join(ROOT, '.tmp-worker-bundle-'));
    modelPath = join(dir, 'tiny.onnx');
    await writeFile(modelPath, tinyOnnx(['N', 2, 3]));
    await writeFile(join(dir, 'probe.ts'), PROBE);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function bundle(outdir: string, withWorker: boolean): Promise<void> {
    const { script, entries } = await dockerBundle();
    const worker = entries[ONNX_WORKER_BUNDLE_ENTRY];
    const points = [`extract=${join(dir, 'probe.ts')}`, ...(withWorker && worker ? [`${ONNX_WORKER_BUNDLE_ENTRY}=${worker}`] : [])];
    await run(process.execPath, [join(ROOT, script), outdir, ...points], { cwd: ROOT });
  }

  it('names the worker as an entry of its own', async () => {
    const { entries } = await dockerBundle();
    expect(entries[ONNX_WORKER_BUNDLE_ENTRY]).toBe('src/engine/onnx/worker.ts');
  });

  it('runs a session from the bundle, with the worker beside the handler', async () => {
    // Prepare
    const outdir = join(dir, 'dist');
    await bundle(outdir, true);
    // Act: run the bundle where Lambda would, away from the source tree's worker.ts
    const { stdout } = await run(process.execPath, [join(outdir, 'extract.mjs'), modelPath], { cwd: outdir });
    // Assess
    expect(JSON.parse(stdout)).toEqual([2, 4, 6, 8, 10, 12]);
  });

  it('says what is missing when a bundle has no worker', async () => {
    const outdir = join(dir, 'no-worker');
    await bundle(outdir, false);
    const failure = await run(process.execPath, [join(outdir, 'extract.mjs'), modelPath], { cwd: outdir }).catch((e: { stderr: string }) => e);
    expect((failure as { stderr: string }).stderr).toContain(`ONNX Runtime's worker is missing: expected ${join(outdir, 'onnx-worker.mjs')}`);
  });
});
