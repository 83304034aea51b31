import { describe, expect, it } from 'vitest';
import { mean, median, percentile, timeInterleaved } from '../../../bench/stats.js';
import { InvalidArgumentError } from '../../../src/errors.js';

describe('summary statistics', () => {
  it('computes the mean and the median of odd and even counts', () => {
    expect(mean([1, 2, 3, 10])).toBe(4);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('takes nearest-rank percentiles: always a measured value', () => {
    const samples = Array.from({ length: 500 }, (_, i) => 500 - i); // 500 … 1
    expect(percentile(samples, 50)).toBe(250);
    expect(percentile(samples, 99)).toBe(495);
    expect(percentile(samples, 100)).toBe(500);
    expect(percentile([7], 99)).toBe(7);
  });

  it('refuses empty samples and percentiles outside (0, 100]', () => {
    expect(() => median([])).toThrow(InvalidArgumentError);
    expect(() => mean([])).toThrow('The mean of no samples is undefined.');
    expect(() => percentile([1], 0)).toThrow('Percentile must be in (0, 100], got 0.');
    expect(() => percentile([1], 101)).toThrow(InvalidArgumentError);
  });
});

describe('timeInterleaved', () => {
  it('warms up, then alternates the functions run by run', async () => {
    const calls: string[] = [];
    const times = await timeInterleaved(
      { a: async () => calls.push('a'), b: async () => calls.push('b') },
      { warmup: 1, runs: 2 },
    );
    expect(calls).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(times.a).toHaveLength(2);
    expect(times.b.every((ms) => ms >= 0)).toBe(true);
  });

  it('keeps timing cheap calls until minMs, but not past maxRuns', async () => {
    const times = await timeInterleaved({ a: async () => undefined }, { warmup: 0, runs: 1, minMs: 60_000, maxRuns: 7 });
    expect(times.a).toHaveLength(7);
  });

  it('refuses a plan without runs', async () => {
    await expect(timeInterleaved({ a: async () => undefined }, { warmup: 0, runs: 0 })).rejects.toThrow('runs must be a positive integer, got 0.');
  });
});
