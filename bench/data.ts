/**
 * Data tools (issue 17): POST /similar's exact cosine search over 10,000 and 100,000 synthetic 1,024-d
 * vectors, and GET /datasets/{name}/issues' computation for 10,000 images. In memory, on this process's
 * TF.js backend: the shard reads in front of them are the feature cache's cost (400 MB for 100,000 rows).
 */
import { initBackend } from '../src/engine/backend.js';
import { findIssues } from '../src/datatools/find-issues.js';
import { similarImages } from '../src/datatools/similar.js';
import { nearestNeighbourTable, nearestRows, normalizeRows } from '../src/datatools/vectors.js';
import { mulberry32 } from '../src/heads/random.js';
import type { SectionContext } from './context.js';
import { median, percentile } from './stats.js';
import type { BenchTable } from './table.js';

const DIM = 1024;
const CLASSES = 10;

/** This process's CPU time (user + system) since `start`, in ms: fair where the machine is shared. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Non-negative rows (like pooled ReLU features) around one of 10 class centres; labels cycle. */
function syntheticRows(rows: number, seed: number): { features: Float32Array; labels: string[]; keys: string[] } {
  const random = mulberry32(seed);
  const centres = Array.from({ length: CLASSES }, () => Float32Array.from({ length: DIM }, () => random() * 2));
  const features = new Float32Array(rows * DIM);
  for (let r = 0; r < rows; r++) {
    const centre = centres[r % CLASSES]!;
    for (let j = 0; j < DIM; j++) features[r * DIM + j] = Math.max(0, centre[j]! + 0.8 * gaussian(random));
  }
  return { features, labels: Array.from({ length: rows }, (_, r) => `class${r % CLASSES}`), keys: Array.from({ length: rows }, (_, r) => `images/bench/class${r % CLASSES}/${r}.png`) };
}

async function similarRow(rows: number, queries: number, log: (line: string) => void) {
  const data = { ...syntheticRows(rows, rows), dim: DIM };
  const query = syntheticRows(queries, 99).features;
  const total: number[] = [];
  const search: number[] = [];
  const cpu = process.cpuUsage();
  for (let q = 0; q < queries; q++) {
    const vector = query.subarray(q * DIM, (q + 1) * DIM);
    const started = performance.now();
    similarImages(data, vector, 10);
    total.push(performance.now() - started);
  }
  const cpuMs = cpuMsSince(cpu) / queries;
  const unit = normalizeRows(data.features, DIM);
  for (let q = 0; q < queries; q++) {
    const vector = normalizeRows(query.subarray(q * DIM, (q + 1) * DIM), DIM);
    const started = performance.now();
    nearestRows(unit, DIM, vector, 10);
    search.push(performance.now() - started);
  }
  log(`data: /similar over ${rows}: median ${median(total).toFixed(1)} ms`);
  return { what: `POST /similar, k = 10, ${rows.toLocaleString('en')} × 1,024`, rows, medianMs: median(total), p95Ms: percentile(total, 95), cpuMs, searchMs: median(search), n: queries };
}

async function issuesRow(rows: number, log: (line: string) => void) {
  const data = syntheticRows(rows, 7);
  // 5 % of the labels flipped to the next class, as the real test does with fashion-mnist.
  const random = mulberry32(11);
  const flipped = new Set<number>();
  while (flipped.size < rows * 0.05) flipped.add(Math.floor(random() * rows));
  const labels = data.labels.map((l, r) => (flipped.has(r) ? `class${(Number(l.slice(5)) + 1 + Math.floor(random() * (CLASSES - 1))) % CLASSES}` : l));
  const started = performance.now();
  const unit = normalizeRows(data.features, DIM);
  nearestNeighbourTable(unit, unit, DIM, 10, true);
  const knnMs = performance.now() - started;
  const t0 = performance.now();
  const cpu = process.cpuUsage();
  const issues = await findIssues({ keys: data.keys, labels, sha256: data.keys, features: data.features, dim: DIM });
  const totalMs = performance.now() - t0;
  const cpuMs = cpuMsSince(cpu);
  const n = flipped.size;
  const hit = (top: number) => issues.labelIssues.slice(0, top).filter((i) => flipped.has(Number(i.key.split('/').pop()!.split('.')[0]))).length / n;
  log(`data: issues over ${rows}: ${(totalMs / 1000).toFixed(1)} s`);
  return { what: `issues of ${rows.toLocaleString('en')} images × 1,024`, rows, medianMs: totalMs, p95Ms: null, cpuMs, searchMs: knnMs, n: 1, precision: hit(n), recall: hit(2 * n) };
}

export async function runData(context: SectionContext): Promise<BenchTable[]> {
  await initBackend();
  const { quick } = context.args;
  const rows = [
    await similarRow(10_000, quick ? 5 : 20, context.log),
    await similarRow(100_000, quick ? 3 : 10, context.log),
    await issuesRow(quick ? 2_000 : 10_000, context.log),
  ];
  return [
    {
      id: 'data',
      title: 'Data tools: /similar latency and the issues computation (synthetic 1,024-d features)',
      command: context.command,
      columns: [
        { key: 'what', label: 'what' },
        { key: 'medianMs', label: 'median ms (total)', digits: 1 },
        { key: 'p95Ms', label: 'p95 ms', digits: 1 },
        { key: 'cpuMs', label: 'CPU ms (mean)', digits: 1 },
        { key: 'searchMs', label: 'search only / kNN table ms', digits: 1 },
        { key: 'n', label: 'runs' },
        { key: 'precision', label: 'label issues precision@N', digits: 2 },
        { key: 'recall', label: 'recall@2N', digits: 2 },
      ],
      rows,
      notes: [
        '/similar total: similarImages (src/datatools/similar.ts), one exact pass over the raw rows (norms in the same pass), after the shards are in memory; search only: the pass over rows normalized beforehand.',
        'issues: findIssues (kNN table by blocked TF.js products, duplicates, outliers, a 5-fold linear probe and confident learning); the kNN column is that table alone.',
        'Synthetic rows: 10 class centres + noise, 5 % of labels flipped; precision of the top N flagged and recall within the top 2N.',
      ],
    },
  ];
}
