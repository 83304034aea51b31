import { mapLimit } from '../util/concurrency.js';
import { readJson, writeJson } from '../util/json.js';
import type { ObjectStore } from '../store/index.js';
import { decodeWeightsFile, encodeWeightsFile, type LayerWeights } from '../weights/index.js';
import { CheckpointMismatchError, CorruptCheckpointError } from './errors.js';
import { checkpointPrefix } from './keys.js';
import type { LoopState } from './loop.js';
import type { OptimizerState } from './trainer.js';
import type { ResolvedFinetuneRequest } from './types.js';
import { sha256Hex } from '../util/hash.js';

/** `state.json`: written after the epoch's weight files, so it only ever names complete ones. */
export interface CheckpointState {
  format: 'headstart-finetune-checkpoint';
  version: 1;
  jobId: string;
  modelId: string;
  /** sha256 of the resolved request: a resume must be the same training run. */
  fingerprint: string;
  loop: LoopState;
  optimizerIterations: number;
  /** Files under the checkpoint prefix; `best` is null when the best epoch is the last one. */
  files: { weights: string; optimizer: string; best: string | null };
  savedAt: string;
}

export interface Checkpoint {
  state: CheckpointState;
  /** Every weight of the trainable layers (BatchNormalization statistics included), by layer name. */
  weights: LayerWeights;
  optimizer: OptimizerState;
  /** The best epoch's trainable variables, when it is not the last epoch. */
  best?: LayerWeights;
}

const STATE_FILE = 'state.json';

/** What makes two runs the same run: every resolved setting except the id they publish under. */
export function requestFingerprint(request: ResolvedFinetuneRequest): string {
  const { modelId: _ignored, ...training } = request;
  return sha256Hex(JSON.stringify(training));
}

function encode(weights: LayerWeights): Buffer {
  return Buffer.concat([...encodeWeightsFile(weights)]);
}

async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.listAll(prefix)) keys.push(info.key);
  return keys;
}

/**
 * Saves the end of an epoch under `jobs/<jobId>/checkpoint/`: the epoch's weight files in a folder of
 * their own, then state.json pointing at them, then the previous epochs' folders are removed. A process
 * killed at any moment leaves the last complete checkpoint readable.
 */
export async function saveCheckpoint(store: ObjectStore, checkpoint: Omit<Checkpoint, 'state'> & { state: Omit<CheckpointState, 'files' | 'savedAt' | 'format' | 'version'> }): Promise<void> {
  const prefix = checkpointPrefix(checkpoint.state.jobId);
  const folder = `epoch-${String(checkpoint.state.loop.epoch).padStart(4, '0')}/`;
  const files = { weights: `${folder}weights.safetensors`, optimizer: `${folder}optimizer.safetensors`, best: checkpoint.best ? `${folder}best.safetensors` : null };
  await store.put(prefix + files.weights, encode(checkpoint.weights));
  await store.put(prefix + files.optimizer, encode(checkpoint.optimizer.slots));
  if (checkpoint.best) await store.put(prefix + files.best!, encode(checkpoint.best));
  const state: CheckpointState = { format: 'headstart-finetune-checkpoint', version: 1, ...checkpoint.state, files, savedAt: new Date().toISOString() };
  await writeJson(store, prefix + STATE_FILE, state);
  const stale = (await listKeys(store, prefix)).filter((key) => key !== prefix + STATE_FILE && !key.startsWith(prefix + folder));
  await mapLimit(stale, 8, (key) => store.delete(key));
}

async function readWeights(store: ObjectStore, jobId: string, key: string): Promise<LayerWeights> {
  try {
    return decodeWeightsFile(new Uint8Array(await store.get(key)), key);
  } catch (error) {
    throw new CorruptCheckpointError(jobId, `${key} cannot be read (${(error as Error).message})`, { cause: error });
  }
}

/**
 * The job's checkpoint, or undefined when it has none. CheckpointMismatchError when it was written for
 * another request; CorruptCheckpointError when its files are missing or unreadable.
 */
export async function loadCheckpoint(store: ObjectStore, jobId: string, request: ResolvedFinetuneRequest): Promise<Checkpoint | undefined> {
  const prefix = checkpointPrefix(jobId);
  const state = await readJson<CheckpointState>(store, prefix + STATE_FILE);
  if (!state) return undefined;
  if (state.format !== 'headstart-finetune-checkpoint' || state.version !== 1) throw new CorruptCheckpointError(jobId, `${STATE_FILE} is not a version 1 checkpoint`);
  if (state.fingerprint !== requestFingerprint(request)) throw new CheckpointMismatchError(jobId, 'its settings differ from this request');
  if (request.modelId !== null && request.modelId !== state.modelId) {
    throw new CheckpointMismatchError(jobId, `it publishes as '${state.modelId}', this request as '${request.modelId}'`);
  }
  const [weights, slots, best] = await Promise.all([
    readWeights(store, jobId, prefix + state.files.weights),
    readWeights(store, jobId, prefix + state.files.optimizer),
    state.files.best ? readWeights(store, jobId, prefix + state.files.best) : Promise.resolve(undefined),
  ]);
  return { state, weights, optimizer: { iterations: state.optimizerIterations, slots }, best };
}

/** Removes the checkpoint once the model is published (it holds a copy of the trainable weights). */
export async function deleteCheckpoint(store: ObjectStore, jobId: string): Promise<void> {
  await mapLimit(await listKeys(store, checkpointPrefix(jobId)), 8, (key) => store.delete(key));
}
