import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { nearestNeighbourTable, nearestRows, normalizeRows } from '../../../src/datatools/vectors.js';
import { mulberry32 } from '../../../src/heads/random.js';

function randomRows(rows: number, dim: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length: rows * dim }, () => random() - 0.5);
}

/** Cosines by the definition, in float64: the reference both searches are held to. */
function bruteForce(unit: Float32Array, dim: number, query: Float32Array): number[] {
  const rows = unit.length / dim;
  return Array.from({ length: rows }, (_, r) => unit.subarray(r * dim, (r + 1) * dim).reduce((s, v, j) => s + v * query[j]!, 0));
}

beforeAll(async () => {
  await initBackend();
});

describe('cosine search', () => {
  it('normalizeRows gives unit rows and leaves a zero row zero', () => {
    const unit = normalizeRows(Float32Array.from([3, 4, 0, 0]), 2);
    expect(Array.from(unit)).toEqual([0.6000000238418579, 0.800000011920929, 0, 0]);
  });

  it('nearestRows returns the brute-force top k, best first, skipping what it is told to', () => {
    const dim = 16;
    const unit = normalizeRows(randomRows(200, dim, 1), dim);
    const query = normalizeRows(randomRows(1, dim, 2), dim);
    const expected = bruteForce(unit, dim, query)
      .map((score, row) => ({ row, score }))
      .filter((n) => n.row !== 7)
      .sort((a, b) => b.score - a.score)
      .slice(0, 5);
    const found = nearestRows(unit, dim, query, 5, (row) => row === 7);
    expect(found.map((n) => n.row)).toEqual(expected.map((n) => n.row));
    found.forEach((n, i) => expect(n.score).toBeCloseTo(expected[i]!.score, 5));
    // Raw rows, scaled by their norms in the same pass: the same neighbours and cosines.
    const raw = unit.map((v, i) => v * (1 + (Math.floor(i / dim) % 5)));
    const fromRaw = nearestRows(raw, dim, query, 5, (row) => row === 7, false);
    expect(fromRaw.map((n) => n.row)).toEqual(expected.map((n) => n.row));
    fromRaw.forEach((n, i) => expect(n.score).toBeCloseTo(expected[i]!.score, 5));
  });

  it('nearestNeighbourTable matches nearestRows for every row, never lists a row as its own neighbour, and leaks no tensor', () => {
    const dim = 8;
    const unit = normalizeRows(randomRows(700, dim, 3), dim);
    const before = tf.memory().numTensors;
    const table = nearestNeighbourTable(unit, unit, dim, 4, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(table.k).toBe(4);
    for (const row of [0, 1, 511, 512, 699]) {
      const expected = nearestRows(unit, dim, unit.subarray(row * dim, (row + 1) * dim), 4, (r) => r === row);
      expect(Array.from(table.index.subarray(row * 4, row * 4 + 4))).toEqual(expected.map((n) => n.row));
    }
    for (let row = 0; row < 700; row++) expect(Array.from(table.index.subarray(row * 4, row * 4 + 4))).not.toContain(row);
  });

  it('an exact copy is still a neighbour of its twin', () => {
    const dim = 4;
    const rows = normalizeRows(Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]), dim);
    const table = nearestNeighbourTable(rows, rows, dim, 1, true);
    expect(Array.from(table.index)).toEqual([1, 0, 0]);
    expect(table.score[0]).toBeCloseTo(1, 6);
  });
});
