import { tf } from '../engine/backend.js';

/**
 * Cosine similarity over cached feature vectors. Rows are scaled to unit length once, so a cosine is a
 * dot product: one query against N rows is an N×D pass in plain JS (no tensor upload), and every row
 * against every row is blocked matrix products on the TF.js backend (XNNPACK on wasm), which does in
 * seconds what a JS loop does in minutes (10,000 × 10,000 × 1,024 is 10^11 multiply-adds).
 */

/** Rows of `features` [rows, dim] scaled to unit L2 norm (a zero row stays zero). A new array. */
export function normalizeRows(features: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(features.length);
  for (let start = 0; start < features.length; start += dim) {
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += features[start + j]! * features[start + j]!;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let j = 0; j < dim; j++) out[start + j] = features[start + j]! * scale;
  }
  return out;
}

export interface Neighbour {
  row: number;
  score: number;
}

/**
 * The `k` rows of `matrix` [rows, dim] with the highest cosine to `query` (a unit vector), best first;
 * rows for which `skip(row)` is true are never returned. Ties keep the lower row first. With `unitRows`
 * false the rows are raw: each row's norm is taken in the same pass as its dot product, so a search
 * over a dataset's shards allocates nothing (normalizing 100,000 × 1,024 first is a 400 MB copy).
 */
export function nearestRows(matrix: Float32Array, dim: number, query: Float32Array, k: number, skip?: (row: number) => boolean, unitRows = true): Neighbour[] {
  const rows = matrix.length / dim;
  const best: Neighbour[] = [];
  for (let row = 0; row < rows; row++) {
    if (skip?.(row)) continue;
    let score = 0;
    const base = row * dim;
    if (unitRows) {
      for (let j = 0; j < dim; j++) score += matrix[base + j]! * query[j]!;
    } else {
      let norm = 0;
      for (let j = 0; j < dim; j++) {
        const v = matrix[base + j]!;
        score += v * query[j]!;
        norm += v * v;
      }
      score = norm > 0 ? score / Math.sqrt(norm) : 0;
    }
    if (best.length === k && score <= best[k - 1]!.score) continue;
    // Insertion into a sorted list of at most k: k is small (≤ 100), so this beats a heap.
    let at = best.length;
    while (at > 0 && best[at - 1]!.score < score) at--;
    best.splice(at, 0, { row, score });
    if (best.length > k) best.pop();
  }
  return best;
}

/** Every row's `k` nearest rows of another (or the same) matrix: rows × k, best first. */
export interface NeighbourTable {
  k: number;
  /** Row indices into the searched matrix, [rows, k]. */
  index: Int32Array;
  /** Their cosines, [rows, k]. */
  score: Float32Array;
}

/** Query rows per matrix product: 512 × 100,000 scores is 200 MB, the most held at once. */
const BLOCK_ROWS = 512;

/**
 * For each row of `queries` [q, dim], its `k` most similar rows of `data` [n, dim], both unit-norm.
 * With `excludeSelf` (queries and data are the same matrix), a row is never its own neighbour.
 * Runs blocked products on the TF.js backend; creates no tensor that outlives the call.
 */
export function nearestNeighbourTable(queries: Float32Array, data: Float32Array, dim: number, k: number, excludeSelf = false): NeighbourTable {
  const q = queries.length / dim;
  const n = data.length / dim;
  const kk = Math.min(k, excludeSelf ? n - 1 : n);
  const index = new Int32Array(q * Math.max(kk, 0));
  const score = new Float32Array(q * Math.max(kk, 0));
  if (kk <= 0 || q === 0) return { k: Math.max(kk, 0), index, score };
  // Without itself a row needs one more candidate: its own cosine is 1, tied at most with exact copies.
  const fetch = Math.min(n, excludeSelf ? kk + 1 : kk);
  // One explicit transpose: matMul(a, b, false, true) makes the backend transpose b per block.
  const dataT = tf.tidy(() => tf.transpose(tf.tensor2d(data, [n, dim])));
  try {
    for (let start = 0; start < q; start += BLOCK_ROWS) {
      const end = Math.min(q, start + BLOCK_ROWS);
      const [values, indices] = tf.tidy(() => {
        const sims = tf.matMul(tf.tensor2d(queries.subarray(start * dim, end * dim), [end - start, dim]), dataT);
        const top = tf.topk(sims, fetch, true);
        return [top.values.dataSync() as Float32Array, top.indices.dataSync() as Int32Array];
      });
      for (let r = 0; r < end - start; r++) {
        const row = start + r;
        let out = row * kk;
        for (let c = 0; c < fetch && out < (row + 1) * kk; c++) {
          const at = indices[r * fetch + c]!;
          if (excludeSelf && at === row) continue;
          index[out] = at;
          score[out++] = values[r * fetch + c]!;
        }
      }
    }
  } finally {
    dataT.dispose();
  }
  return { k: kk, index, score };
}
