/** Summary statistics and timing loops for the benchmarks. */
import { InvalidArgumentError } from '../src/errors.js';

function checkSamples(samples: readonly number[], what: string): void {
  if (samples.length === 0) throw new InvalidArgumentError(`${what} of no samples is undefined.`);
}

export function mean(samples: readonly number[]): number {
  checkSamples(samples, 'The mean');
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

/** The middle value (the mean of the two middle values for an even count): robust to a noisy neighbour. */
export function median(samples: readonly number[]): number {
  checkSamples(samples, 'The median');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Nearest-rank percentile: the smallest sample with at least p% of the samples at or below it
 * (p99 of 500 latencies is the 495th smallest), so the value is always one that was measured.
 */
export function percentile(samples: readonly number[], p: number): number {
  checkSamples(samples, `Percentile ${p}`);
  if (!(p > 0 && p <= 100)) throw new InvalidArgumentError(`Percentile must be in (0, 100], got ${p}.`);
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

export interface TimingPlan {
  /** Untimed calls first (JIT, ORT arena, weight uploads). */
  warmup: number;
  /** Timed calls per function, at least. */
  runs: number;
  /** Keep timing rounds until this much time has passed too (cheap calls get more samples). @default 0 */
  minMs?: number;
  /** Never more rounds than this. @default 100 */
  maxRuns?: number;
}

/**
 * Times several functions round-robin (a, b, a, b, …) after warming each up, and returns each one's
 * milliseconds per call: `runs` rounds, more while under `minMs`, never over `maxRuns`. Interleaving
 * matters on a shared machine: a neighbour's burst of load hits every contender alike instead of
 * whichever happened to be running.
 */
export async function timeInterleaved<K extends string>(fns: Record<K, () => Promise<unknown>>, plan: TimingPlan): Promise<Record<K, number[]>> {
  if (!Number.isInteger(plan.runs) || plan.runs < 1) throw new InvalidArgumentError(`runs must be a positive integer, got ${plan.runs}.`);
  const keys = Object.keys(fns) as K[];
  for (let i = 0; i < plan.warmup; i++) for (const key of keys) await fns[key]();
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const started = performance.now();
  const more = (i: number) => i < plan.runs || (i < (plan.maxRuns ?? 100) && performance.now() - started < (plan.minMs ?? 0));
  for (let i = 0; more(i); i++) {
    for (const key of keys) {
      const started = performance.now();
      await fns[key]();
      times[key].push(performance.now() - started);
    }
  }
  return times;
}

/** Megabytes, for RSS columns. */
export const toMiB = (bytes: number): number => bytes / 2 ** 20;
