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

/** True for the errors V8, TF.js and its wasm backend throw when an allocation fails. */
export function isAllocationFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.name}: ${error.message}`;
  if (error instanceof RangeError && /alloc|typed array length|array length|buffer size|memory/i.test(text)) return true;
  return /out of memory|failed to allocate|cannot enlarge memory|maximum memory size exceeded/i.test(text);
}

/** An allocation failure as an OutOfMemoryError naming the sizes involved; other errors pass through. */
export function asOutOfMemory(error: unknown, phase: string, size: TrainingSize): unknown {
  if (!isAllocationFailure(error)) return error;
  return new OutOfMemoryError(
    `Ran out of memory while ${phase} ${describe(size)} (${(error as Error).message}): ${ADVICE}.`,
    { cause: error },
  );
}
