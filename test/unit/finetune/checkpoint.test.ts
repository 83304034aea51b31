import { describe, expect, it } from 'vitest';
import {
  CheckpointMismatchError,
  CorruptCheckpointError,
  checkpointPrefix,
  deleteCheckpoint,
  loadCheckpoint,
  resolveFinetuneRequest,
  saveCheckpoint,
} from '../../../src/finetune/index.js';
import { requestFingerprint } from '../../../src/finetune/checkpoint.js';
import { INITIAL_LOOP_STATE } from '../../../src/finetune/loop.js';
import { MemoryStore } from '../../../src/store/index.js';

const JOB = 'job-20250101-000000-0123abcd';
const request = resolveFinetuneRequest({ dataset: 'd', model: 'mobilenet_v2', unfreeze: 'block_16' });
const weights = (v: number) => [{ layer: 'block_16_expand', weights: [{ name: 'kernel', shape: [1, 1, 2, 2], data: Float32Array.from([v, v + 1, v + 2, v + 3]) }] }];
const slots = [{ layer: 'optimizer', weights: [{ name: 'block_16_expand/kernel/m', shape: [4], data: Float32Array.from([1, 2, 3, 4]) }, { name: 'block_16_expand/kernel/v', shape: [4], data: Float32Array.from([5, 6, 7, 8]) }] }];

function save(store: MemoryStore, epoch: number, best = false) {
  const loop = { ...INITIAL_LOOP_STATE, epoch, bestEpoch: best ? epoch - 1 : epoch, bestLoss: 0.5 };
  return saveCheckpoint(store, {
    state: { jobId: JOB, modelId: 'd-ft', fingerprint: requestFingerprint(request), loop, optimizerIterations: epoch * 3 },
    weights: weights(epoch),
    optimizer: { iterations: epoch * 3, slots },
    best: best ? weights(100) : undefined,
  });
}

async function keys(store: MemoryStore): Promise<string[]> {
  const found: string[] = [];
  for await (const info of store.listAll(checkpointPrefix(JOB))) found.push(info.key.slice(checkpointPrefix(JOB).length));
  return found.sort();
}

describe('checkpoints', () => {
  it('keeps only the latest complete epoch, with state.json naming its files', async () => {
    const store = new MemoryStore();
    await save(store, 1);
    await save(store, 2, true);
    expect(await keys(store)).toEqual(['epoch-0002/best.safetensors', 'epoch-0002/optimizer.safetensors', 'epoch-0002/weights.safetensors', 'state.json']);
    const loaded = (await loadCheckpoint(store, JOB, request))!;
    expect(loaded.state).toMatchObject({ modelId: 'd-ft', loop: { epoch: 2, bestEpoch: 1 }, optimizerIterations: 6 });
    expect(Array.from(loaded.weights[0]!.weights[0]!.data)).toEqual([2, 3, 4, 5]);
    expect(Array.from(loaded.best![0]!.weights[0]!.data)).toEqual([100, 101, 102, 103]);
    expect(loaded.optimizer.iterations).toBe(6);
    expect(loaded.optimizer.slots[0]!.weights.map((w) => w.name)).toEqual(['block_16_expand/kernel/m', 'block_16_expand/kernel/v']);
  });

  it('is absent for a job that never checkpointed, and gone once deleted', async () => {
    const store = new MemoryStore();
    expect(await loadCheckpoint(store, JOB, request)).toBeUndefined();
    await save(store, 1);
    await deleteCheckpoint(store, JOB);
    expect(await keys(store)).toEqual([]);
  });

  it('refuses to resume a different request or a different model id', async () => {
    const store = new MemoryStore();
    await save(store, 1);
    const other = resolveFinetuneRequest({ dataset: 'd', model: 'mobilenet_v2', unfreeze: 'block_15' });
    await expect(loadCheckpoint(store, JOB, other)).rejects.toBeInstanceOf(CheckpointMismatchError);
    await expect(loadCheckpoint(store, JOB, { ...request, modelId: 'elsewhere' })).rejects.toThrow(
      `Job '${JOB}' has a checkpoint from a different request (it publishes as 'd-ft', this request as 'elsewhere')`,
    );
    // The id alone is not a setting: the same request without one resumes.
    expect(await loadCheckpoint(store, JOB, { ...request, modelId: 'd-ft' })).toBeDefined();
  });

  it('reports damaged files', async () => {
    const store = new MemoryStore();
    await save(store, 1);
    await store.delete(`${checkpointPrefix(JOB)}epoch-0001/weights.safetensors`);
    await expect(loadCheckpoint(store, JOB, request)).rejects.toBeInstanceOf(CorruptCheckpointError);
    await store.put(`${checkpointPrefix(JOB)}epoch-0001/weights.safetensors`, 'garbage!');
    await expect(loadCheckpoint(store, JOB, request)).rejects.toThrow(/The checkpoint of job '.*' is damaged: .*weights.safetensors cannot be read/);
  });

  it('checks the job id', () => {
    expect(() => checkpointPrefix('../x')).toThrow(/Invalid job id/);
  });
});
