import { totalmem } from 'node:os';
import { OutOfMemoryError } from './errors.js';

const MiB = 1024 * 1024;

export interface TrainingSize {
  rows: number;
  dim: number;
  classes: number;
  hidden: readonly number[];
}

/** Bytes this process may use: the Lambda's memory size, a cgroup limit, or the machine's memory. */
export function memoryLimitBytes(env: NodeJS.ProcessEnv = process.env): number {
  const lambdaMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (Number.isFinite(lambdaMb) && lambdaMb > 0) return lambdaMb * MiB;
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return constrained && constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
}

/**
 * The most memory TF.js's wasm backend can ever hold: a wasm32 memory addresses 4 GiB, and the 4.22 build caps
 * its heap 64 KiB below that (`getHeapMax` in tf-backend-wasm.node.js). Every tensor of a head trained on it
 * (the features, the weights, their gradients and Adam's moments) lives in this heap, whatever the machine has:
 * a run past it traps mid-kernel ('memory access out of bounds') instead of failing an allocation cleanly.
 */
export const WASM_HEAP_MAX_BYTES = 4294901760;

/**
 * Heap bytes a head parameter takes while it trains on the wasm backend, measured (scratch runs of trainHead
 * with Adam on TF.js 4.22: 85–93 bytes per parameter for heads of 4.2 M, 16.9 M and 34.1 M parameters): far
 * above the 16 of weights, gradients and two moments, because every step allocates new tensors of each
 * size before the old ones are freed, and the heap, which never shrinks, grows past the fragments.
 */
export const WASM_HEAP_BYTES_PER_PARAM = 88;

/** The backends whose tensors live in a heap of their own, smaller than the process's memory, and what a parameter costs there. */
const BACKEND_HEAPS: Record<string, { bytes: number; perParam: number }> = { wasm: { bytes: WASM_HEAP_MAX_BYTES, perParam: WASM_HEAP_BYTES_PER_PARAM } };

/**
 * The backend heads will train on, as far as a process that has not started TF.js can tell: HEADSTART_BACKEND
 * when set, else wasm (the backend every installation has; tfjs-node is optional and never assumed).
 */
export function plannedTrainingBackend(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.HEADSTART_BACKEND;
  return named && named !== 'auto' ? named : 'wasm';
}

/** `backend`'s own heap and the bytes of it a trained parameter takes, when its tensors live in one (wasm); undefined when only the process's memory limits it. */
export function backendHeap(backend: string): { bytes: number; perParam: number } | undefined {
  return BACKEND_HEAPS[backend];
}

export function headParams({ dim, classes, hidden }: TrainingSize): number {
  const widths = [dim, ...hidden, classes];
  let params = 0;
  for (let i = 1; i < widths.length; i++) params += widths[i - 1] * widths[i] + widths[i];
  return params;
}

/**
 * Peak bytes of a training run: the float32 feature matrix about three times (shard parts and the joined
 * matrix while loading; the matrix and its train/validation copies while training), and the head's
 * parameters four times (weights, gradients, Adam's two moments).
 */
export function estimateTrainingBytes(size: TrainingSize): { features: number; head: number; total: number } {
  const features = 3 * 4 * size.rows * size.dim;
  const head = 4 * 4 * headParams(size);
  return { features, head, total: features + head };
}

/** 1.9 KiB, 774.0 KiB, 12.5 MiB, 3.20 GiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < MiB) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${(bytes / 1024 / MiB).toFixed(2)} GiB`;
}

function describe(size: TrainingSize): string {
  return `${size.rows} rows × ${size.dim} features (${formatBytes(4 * size.rows * size.dim)} as float32) and a head of ${headParams(size)} parameters`;
}

const ADVICE = "raise the train function's memory (trainMemoryMb), train on fewer images, or pick a smaller feature layer or head";

/** Throws OutOfMemoryError before loading anything when the run cannot fit in what this process has left. */
export function checkMemoryBudget(size: TrainingSize, limitBytes: number, usedBytes: number = process.memoryUsage().rss): void {
  const needed = estimateTrainingBytes(size).total;
  const available = limitBytes - usedBytes;
  if (needed > available) {
    throw new OutOfMemoryError(
      `Training on ${describe(size)} needs about ${formatBytes(needed)}, but only ${formatBytes(Math.max(0, available))} of ${formatBytes(limitBytes)} are free: ${ADVICE}.`,
    );
  }
}

/**
 * Throws OutOfMemoryError before loading anything when the run's tensors cannot fit in the heap of the backend
 * that will hold them (`inUseBytes`: what its tensors already hold, `tf.memory().numBytes`). For the wasm
 * backend that is its 4 GiB heap, however much RAM the machine has; for the others checkMemoryBudget says it all.
 */
export function checkBackendHeap(size: TrainingSize, backend: string, inUseBytes: number): void {
  const heap = backendHeap(backend);
  if (heap === undefined) return;
  const needed = estimateTrainingBytes(size).features + heap.perParam * headParams(size);
  if (needed > heap.bytes - inUseBytes) {
    throw new OutOfMemoryError(
      `Training on ${describe(size)} needs about ${formatBytes(needed)} of heap (${heap.perParam} bytes per head parameter, measured), ` +
        `more than the ${formatBytes(heap.bytes)} heap of TF.js's ${backend} backend that trains it${inUseBytes > 0 ? ` (${formatBytes(inUseBytes)} of it in use)` : ''}: ` +
        'train a smaller head (fewer or narrower hidden layers) or pick a smaller feature layer; more memory for the function does not raise this heap.',
    );
  }
}

/** True for the errors V8, TF.js and its wasm backend throw when an allocation fails. */
export function isAllocationFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.name}: ${error.message}`;
  if (error instanceof RangeError && /alloc|typed array length|array length|buffer size|memory/i.test(text)) return true;
  // A wasm trap on a heap address: what the wasm backend does when its heap is full mid-kernel.
  return /out of memory|failed to allocate|cannot enlarge memory|maximum memory size exceeded|memory access out of bounds/i.test(text);
}

/** An allocation failure as an OutOfMemoryError naming the sizes involved; other errors pass through. */
export function asOutOfMemory(error: unknown, phase: string, size: TrainingSize): unknown {
  if (!isAllocationFailure(error)) return error;
  // A wasm trap: the backend's own heap ran out, which more memory for the function does not change.
  const heap = (error as Error).name === 'RuntimeError' ? `; TF.js's wasm backend holds at most ${formatBytes(WASM_HEAP_MAX_BYTES)} whatever the machine has, and was restarted` : '';
  return new OutOfMemoryError(
    `Ran out of memory while ${phase} ${describe(size)} (${(error as Error).message}${heap}): ${ADVICE}.`,
    { cause: error },
  );
}
