import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finetuneCommand } from '../../../src/cli/commands/finetune.js';
import { UsageError, type CliIo } from '../../../src/cli/io.js';
import { initBackend } from '../../../src/engine/backend.js';
import { loadFinetuned } from '../../../src/finetune/index.js';
import { FileStore } from '../../../src/store/file.js';
import { createFinetuneJob, createJob, readJob } from '../../../src/jobs/index.js';
import { putPatternDataset, randomBaseFolder } from './fixtures.js';

let root: string;
let baseDir: string;

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'headstart-finetune-cli-'));
  await putPatternDataset(new FileStore(root), 'shapes', 4);
  baseDir = await randomBaseFolder(32);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(baseDir, { recursive: true, force: true });
});

describe('headstart finetune', () => {
  it('fine-tunes a dataset in a local folder and publishes beside it', async () => {
    const io = capture();
    const code = await finetuneCommand.run(
      ['shapes', '--model', 'mobilenet_v2', '--unfreeze', 'last:4', '--epochs', '1', '--store', root, '--weights', baseDir, '--input-size', '32', '--batch', '6', '--lr', '1e-4', '--model-id', 'shapes-cli'],
      io,
    );
    expect(code).toBe(0);
    expect(io.errors[0]).toMatch(/^job job-\d{8}-\d{6}-[0-9a-f]{8} on .* \(wasm backend\); stop with Ctrl-C and resume with --job job-/);
    expect(io.errors[1]).toMatch(/^epoch 1\/1: loss \d+\.\d{4}, accuracy [\d.]+%, val loss \d+\.\d{4}, val accuracy [\d.]+% \([\d.]+ s\)$/);
    expect(io.lines[0]).toBe('published models/finetuned/shapes-cli/ (model.json + weights.bin, model.onnx)');
    expect(io.lines[1]).toMatch(/^ {2}mobilenet_v2, trainable from 'Conv_1': [\d,]+ parameters$/);
    const { model, config } = await loadFinetuned(new FileStore(root), 'shapes-cli');
    expect(config.unfreeze.spec).toEqual({ lastN: 4 });
    model.dispose();
  });

  it('refuses a command line without what it needs', async () => {
    await expect(finetuneCommand.run(['shapes', '--model', 'mobilenet_v2'], capture())).rejects.toThrow(UsageError);
    await expect(finetuneCommand.run(['shapes', '--unfreeze', 'conv5'], capture())).rejects.toThrow(/--model is required/);
    await expect(finetuneCommand.run(['shapes', '--model', 'densenet121', '--unfreeze', 'conv5', '--lr', 'fast'], capture())).rejects.toThrow("--lr must be a number, got 'fast'");
    await expect(finetuneCommand.run(['shapes', '--model', 'densenet121', '--unfreeze', 'conv5', '--job', 'j1', '--store', root], capture())).rejects.toThrow(/Invalid job id "j1"/);
    await expect(finetuneCommand.run(['--store', root], capture())).rejects.toThrow(/give a dataset \(a new job\), or --job <jobId>/);
  });

  it('--job <id> alone runs the request recorded for the job (the GPU batch job\'s command)', async () => {
    const store = new FileStore(root);
    // As POST /train records it, plus a weights folder (the service's would come from the weights cache).
    const queued = await createFinetuneJob(store, { dataset: 'shapes', model: 'mobilenet_v2', unfreeze: { lastN: 2 }, weights: baseDir, inputSize: 32, epochs: 1, batchSize: 6 }, 1);
    const io = capture();
    expect(await finetuneCommand.run(['--job', queued.jobId, '--store', root, '--json'], io)).toBe(0);
    const job = await readJob(store, queued.jobId);
    expect(job).toMatchObject({ kind: 'finetune', status: 'succeeded', createdAt: queued.createdAt, progress: { epoch: 1, epochs: 1 } });
    expect(JSON.parse(io.lines.join('\n'))).toMatchObject({ jobId: queued.jobId, modelId: job.kind === 'finetune' ? job.modelId : 'none' });
    const head = await createJob(store, { dataset: 'shapes' });
    await expect(finetuneCommand.run(['--job', head.jobId, '--store', root], capture())).rejects.toThrow(`job ${head.jobId} is a train job, not a fine-tuning job`);
  });
});
