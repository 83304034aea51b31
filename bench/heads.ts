/**
 * Head-training benchmark (the training issue's case): 5,000 cached 2048-d vectors (+1,000 for validation),
 * head 2048 → 256 → 10, 10 epochs, on each training option. `benchHeads()` returns one row per option;
 * `node bin/run-ts.js bench/heads.ts [--full] [name…]` prints them. Options slower than the default engine
 * run 1 epoch, extrapolated to 10 (`--full` or { full: true } runs them all the way; minutes).
 * Seconds are wall time; cpuSeconds is this process' CPU time, steadier when the machine is shared.
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { initBackend, tf } from '../src/engine/backend.js';
import { gatherRows, type HeadSet } from '../src/heads/dataset.js';
import { createTfjsTrainer } from '../src/heads/engines/tfjs.js';
import type { EngineContext, EpochStats, HeadTrainer, TrainerFactory } from '../src/heads/engines/index.js';
import { lossAndAccuracy } from '../src/heads/metrics.js';
import { predictHead } from '../src/heads/predict.js';
import { mulberry32 } from '../src/heads/random.js';
import { trainHeadWith } from '../src/heads/train.js';
import type { HeadEngineChoice, TrainData } from '../src/heads/types.js';

export interface Row {
  option: string;
  backend: string;
  batchSize: number;
  /** Wall seconds for 10 epochs (extrapolated when `epochsRun` < 10). */
  seconds: number;
  cpuSeconds: number;
  valAccuracy: number;
  epochsRun: number;
}

export interface BenchHeadsOptions {
  /** Run every option for all 10 epochs (the slow ones take minutes). @default false */
  full?: boolean;
  /** Only the options whose name or backend contains one of these strings. */
  only?: string[];
  /** Called as each row is measured (progress for a run that takes minutes). */
  onRow?: (row: Row) => void;
}

const ROWS = 5000;
const VALIDATION_ROWS = 1000;
const DIM = 2048;
const CLASSES = 10;
const EPOCHS = 10;

/** Class means + unit Gaussian noise: learnable, not trivially (mean offsets ~0.1 per dimension). */
export function syntheticFeatures(rows: number, dim: number, classes: number, seed: number, means?: Float32Array[]): { data: TrainData; means: Float32Array[] } {
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const classMeans = means ?? Array.from({ length: classes }, () => Float32Array.from({ length: dim }, () => 0.1 * gauss()));
  const features = new Float32Array(rows * dim);
  const labels: string[] = [];
  for (let r = 0; r < rows; r++) {
    const c = r % classes;
    labels.push(`class_${String(c).padStart(2, '0')}`);
    for (let d = 0; d < dim; d++) features[r * dim + d] = classMeans[c][d] + gauss();
  }
  return { data: { features, dim, labels }, means: classMeans };
}

/**
 * The textbook custom loop: `optimizer.minimize` over the layers model with TF.js autograd, batches
 * pre-built as tensors once (fixed composition, order shuffled per epoch). Bench-only.
 */
class AutogradTrainer implements HeadTrainer {
  private readonly optimizer: tf.Optimizer;
  private batches: { x: tf.Tensor2D; y: tf.Tensor2D }[] = [];

  constructor(private readonly context: EngineContext) {
    this.optimizer = tf.train.adam(context.spec.learningRate);
  }

  private build(order: Int32Array): void {
    const { train, numClasses, spec } = this.context;
    for (let start = 0; start < order.length; start += spec.batchSize) {
      const end = Math.min(order.length, start + spec.batchSize);
      const targets = new Float32Array((end - start) * numClasses);
      for (let i = start; i < end; i++) targets[(i - start) * numClasses + train.labelIndex[order[i]]] = 1;
      this.batches.push({
        x: tf.tensor2d(gatherRows(train, order, start, end, new Float32Array((end - start) * train.dim)), [end - start, train.dim]),
        y: tf.tensor2d(targets, [end - start, numClasses]),
      });
    }
  }

  async trainEpoch(order: Int32Array): Promise<EpochStats> {
    if (this.batches.length === 0) this.build(order);
    const { model } = this.context;
    const random = mulberry32(order[0]);
    const batchOrder = this.batches.map((_, i) => i).sort(() => random() - 0.5);
    let lossSum = 0;
    for (const i of batchOrder) {
      const { x, y } = this.batches[i];
      const loss = this.optimizer.minimize(
        () => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
        true,
      )!;
      lossSum += loss.dataSync()[0] * x.shape[0];
      loss.dispose();
    }
    return { loss: lossSum / order.length, accuracy: NaN };
  }

  evaluate(set: HeadSet): EpochStats {
    return lossAndAccuracy(predictHead(this.context.model, set.features, set.dim), set.labelIndex, this.context.numClasses);
  }

  snapshot(): void {}
  restoreSnapshot(): void {}

  dispose(): void {
    tf.dispose(this.batches.flatMap((b) => [b.x, b.y]));
    this.batches = [];
    this.optimizer.dispose();
  }
}

interface BenchOption {
  option: string;
  backend: 'wasm' | 'cpu';
  batchSize: number;
  engine: HeadEngineChoice;
  factory?: TrainerFactory;
  /** Slower than the default engine: 1 epoch, extrapolated to 10, unless `full`. */
  slow?: boolean;
}

const OPTIONS: BenchOption[] = [
  { option: 'fit (model.fit)', backend: 'wasm', batchSize: 256, engine: 'fit', slow: true },
  { option: 'autograd loop (minimize, pre-built batches)', backend: 'wasm', batchSize: 256, engine: 'tfjs', factory: (c) => new AutogradTrainer(c), slow: true },
  { option: 'tfjs loop, data as one tensor + gather', backend: 'wasm', batchSize: 256, engine: 'tfjs', factory: (c) => createTfjsTrainer(c, 'gather'), slow: true },
  ...[64, 256, 512].map((batchSize): BenchOption => ({ option: 'tfjs loop (manual backprop)', backend: 'wasm', batchSize, engine: 'tfjs' })),
  { option: 'js (Float32Array MLP)', backend: 'cpu', batchSize: 256, engine: 'js', slow: true },
  { option: 'fit (model.fit)', backend: 'cpu', batchSize: 256, engine: 'fit', slow: true },
  { option: 'tfjs loop (manual backprop)', backend: 'cpu', batchSize: 256, engine: 'tfjs', slow: true },
];

async function runOption(option: BenchOption, train: TrainData, validation: TrainData, epochs: number): Promise<Row> {
  await tf.setBackend(option.backend);
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const result = await trainHeadWith(
    train,
    { hidden: [256], epochs, batchSize: option.batchSize, patience: EPOCHS, engine: option.engine },
    { validation },
    option.factory,
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  result.model.dispose();
  const scale = EPOCHS / epochs;
  return {
    option: option.option,
    backend: option.backend,
    batchSize: option.batchSize,
    seconds: seconds * scale,
    cpuSeconds: ((cpu.user + cpu.system) / 1e6) * scale,
    valAccuracy: result.history[result.history.length - 1].valAccuracy ?? NaN,
    epochsRun: epochs,
  };
}

/** Runs every option (or those named in `only`) on the same synthetic data; restores the backend afterwards. */
export async function benchHeads(options: BenchHeadsOptions = {}): Promise<Row[]> {
  await initBackend();
  const original = tf.getBackend();
  const { data: train, means } = syntheticFeatures(ROWS, DIM, CLASSES, 1);
  const { data: validation } = syntheticFeatures(VALIDATION_ROWS, DIM, CLASSES, 2, means);
  const rows: Row[] = [];
  try {
    for (const option of OPTIONS) {
      if (options.only && !options.only.some((name) => option.option.includes(name) || option.backend === name)) continue;
      const row = await runOption(option, train, validation, option.slow && !options.full ? 1 : EPOCHS);
      rows.push(row);
      options.onRow?.(row);
    }
  } finally {
    await tf.setBackend(original);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// head: "auto" against scikit-learn's LogisticRegressionCV on the same features (issue 14).

export interface AutoRow {
  case: string;
  rows: number;
  dim: number;
  /** Test accuracy of the refit, calibrated head (predictHead on the held-out rows). */
  ours: number;
  chosen: string;
  seconds: number;
  cpuSeconds: number;
  sklearn: number | null;
  sklearnC: number | null;
  sklearnSeconds: number | null;
  /** Why scikit-learn has no number (not installed). */
  sklearnNote?: string;
  ece: { before: number; after: number };
}

interface AutoCase {
  name: string;
  train: TrainData;
  test: TrainData;
}

/**
 * A harder synthetic set: 10 classes, each a mixture of 3 far-apart clusters in 256-d with unit noise
 * plus 768 pure-noise dimensions (1,024 in all), so a linear model has to find the few dimensions that
 * matter and the class boundary is not linear.
 */
export function harderSynthetic(rows: number, seed: number, centres?: Float32Array[][]): { data: TrainData; centres: Float32Array[][] } {
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const informative = 256;
  const dim = 1024;
  const modes = centres ?? Array.from({ length: CLASSES }, () => Array.from({ length: 3 }, () => Float32Array.from({ length: informative }, () => 0.35 * gauss())));
  const features = new Float32Array(rows * dim);
  const labels: string[] = [];
  for (let r = 0; r < rows; r++) {
    const c = r % CLASSES;
    const centre = modes[c]![Math.floor(random() * 3)]!;
    labels.push(`class_${String(c).padStart(2, '0')}`);
    for (let d = 0; d < dim; d++) features[r * dim + d] = (d < informative ? centre[d]! : 0) + gauss() + 3;
  }
  return { data: { features, dim, labels }, centres: modes };
}

/** StandardScaler + LogisticRegressionCV(Cs=[0.01, 0.1, 1, 10], cv=5), one BLAS thread (as our single-threaded fit). */
const SKLEARN = `
import json, sys, time, numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegressionCV
d = sys.argv[1]; m = json.load(open(d + '/meta.json'))
X = np.fromfile(d + '/train.f32', dtype=np.float32).reshape(-1, m['dim']); Xt = np.fromfile(d + '/test.f32', dtype=np.float32).reshape(-1, m['dim'])
t = time.time(); scaler = StandardScaler().fit(X)
clf = LogisticRegressionCV(Cs=[0.01, 0.1, 1, 10], cv=5, max_iter=100).fit(scaler.transform(X), np.array(m['train']))
seconds = time.time() - t
print(json.dumps({'accuracy': float((clf.predict(scaler.transform(Xt)) == np.array(m['test'])).mean()), 'C': float(clf.C_[0]), 'seconds': seconds}))
`;

async function runSklearn(train: TrainData, test: TrainData): Promise<{ accuracy: number; C: number; seconds: number } | { note: string }> {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(os.tmpdir(), 'hs-bench-sk-'));
  try {
    const bytes = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    writeFileSync(join(dir, 'train.f32'), bytes(train.features));
    writeFileSync(join(dir, 'test.f32'), bytes(test.features));
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ dim: train.dim, train: train.labels, test: test.labels }));
    const run = spawnSync('python3', ['-c', SKLEARN, dir], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore' },
    });
    if (run.status !== 0) return { note: `scikit-learn did not run (${(run.error?.message ?? run.stderr).trim().split('\n').at(-1)}): pip install scikit-learn` };
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function accuracyOf(probs: Float32Array, labels: readonly string[], truth: readonly string[]): number {
  const classes = labels.length;
  let correct = 0;
  truth.forEach((label, r) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[r * classes + c]! > probs[r * classes + best]!) best = c;
    if (labels[best] === label) correct++;
  });
  return correct / truth.length;
}

async function runAutoCase(c: AutoCase, withSklearn: boolean): Promise<AutoRow> {
  const { trainAutoHead } = await import('../src/heads/auto/select.js');
  const started = performance.now();
  const cpu = process.cpuUsage();
  const head = await trainAutoHead(c.train, 'auto');
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const ours = accuracyOf(predictHead(head.model, c.test.features, c.test.dim), head.labels, c.test.labels);
  head.model.dispose();
  const sk = withSklearn ? await runSklearn(c.train, c.test) : { note: 'not run (timing case)' };
  return {
    case: c.name,
    rows: c.train.labels.length,
    dim: c.train.dim,
    ours,
    chosen: head.selection.chosen,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    sklearn: 'accuracy' in sk ? sk.accuracy : null,
    sklearnC: 'accuracy' in sk ? sk.C : null,
    sklearnSeconds: 'accuracy' in sk ? sk.seconds : null,
    ...('note' in sk ? { sklearnNote: sk.note } : {}),
    ece: head.calibration.ece,
  };
}

/** DenseNet121 avg_pool features of ../shared's fashion-mnist-small, through the FeaturePipeline the stack runs. */
async function fashionMnistFeatures(log: (line: string) => void): Promise<AutoCase | undefined> {
  const { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { SHARED_DIR } = await import('./images.js');
  const { FeaturePipeline } = await import('../src/features/pipeline.js');
  const { importWeights } = await import('../src/weights/index.js');
  const root = join(SHARED_DIR, 'datasets', 'fashion-mnist-small');
  const weights = join(SHARED_DIR, 'models', 'densenet121');
  if (!existsSync(root) || !existsSync(weights)) return undefined;
  const home = mkdtempSync(join(os.tmpdir(), 'hs-bench-auto-'));
  try {
    await importWeights(weights, { model: 'densenet121', home });
    const pipeline = await FeaturePipeline.create({ model: 'densenet121', home });
    try {
      const split = async (name: 'train' | 'test'): Promise<TrainData> => {
        const files = readdirSync(join(root, name)).sort().flatMap((label) => readdirSync(join(root, name, label)).sort().map((f) => ({ label, path: join(root, name, label, f) })));
        const dim = pipeline.featureShape.reduce((a, b) => a * b, 1);
        const features = new Float32Array(files.length * dim);
        for (let i = 0; i < files.length; i += 16) {
          const batch = files.slice(i, i + 16);
          const results = await pipeline.extract(batch.map((f) => readFileSync(f.path)));
          results.forEach((r, j) => {
            if (!r.ok) throw r.error;
            features.set(r.features, (i + j) * dim);
          });
          if (i % 320 === 0) log(`heads auto: extracting fashion-mnist-small ${name} ${i}/${files.length}`);
        }
        return { features, dim, labels: files.map((f) => f.label), keys: files.map((f) => f.path) };
      };
      return { name: 'fashion-mnist-small, DenseNet121 avg_pool (train → test)', train: await split('train'), test: await split('test') };
    } finally {
      pipeline.dispose();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The auto head's table: on fashion-mnist-small (real DenseNet121 features) and a harder synthetic set,
 * headstart `auto` vs scikit-learn LogisticRegressionCV on the same features (test accuracy, ratio,
 * seconds); then selection + refit time alone on 1,000 × 1,024 and (unless `quick`) 10,000 × 2,048.
 */
export async function benchAutoHeads(options: { quick?: boolean; log?: (line: string) => void; onRow?: (row: AutoRow) => void } = {}): Promise<AutoRow[]> {
  const log = options.log ?? (() => undefined);
  await initBackend();
  const rows: AutoRow[] = [];
  const push = (row: AutoRow) => (rows.push(row), options.onRow?.(row));
  const fmnist = await fashionMnistFeatures(log);
  if (fmnist) push(await runAutoCase(fmnist, true));
  const harder = harderSynthetic(2000, 11);
  push(await runAutoCase({ name: 'synthetic: 3 clusters per class, 256 of 1,024 dims informative', train: harder.data, test: harderSynthetic(2000, 12, harder.centres).data }, true));
  const timing = (rowsN: number, dim: number) => {
    const { data, means } = syntheticFeatures(rowsN, dim, CLASSES, 21);
    return { name: `timing: ${rowsN.toLocaleString('en')} × ${dim.toLocaleString('en')} synthetic`, train: data, test: syntheticFeatures(1000, dim, CLASSES, 22, means).data };
  };
  push(await runAutoCase(timing(1000, 1024), false));
  if (!options.quick) push(await runAutoCase(timing(10_000, 2048), false));
  return rows;
}

function formatTable(rows: Row[]): string {
  const header = ['option', 'backend', 'batch', 'seconds', 'cpu s', 'val acc', 'epochs run'];
  const cells = rows.map((r) => [
    r.option,
    r.backend,
    String(r.batchSize),
    r.seconds.toFixed(1) + (r.epochsRun < EPOCHS ? '*' : ''),
    r.cpuSeconds.toFixed(1),
    r.valAccuracy.toFixed(3),
    String(r.epochsRun),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const full = process.argv.includes('--full');
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const backend = await initBackend();
  console.log(`command: node bin/run-ts.js bench/heads.ts ${process.argv.slice(2).join(' ')}`.trim());
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`backend: ${backend} (per row below); case: ${ROWS} × ${DIM} → 256 → ${CLASSES}, ${EPOCHS} epochs, ${VALIDATION_ROWS} validation rows`);
  const rows = await benchHeads({
    full,
    only: only.length ? only : undefined,
    onRow: (row) => console.error(`measured: ${row.option} / ${row.backend} / batch ${row.batchSize}: ${row.seconds.toFixed(1)} s`),
  });
  console.log(formatTable(rows));
  if (rows.some((r) => r.epochsRun < EPOCHS)) console.log(`* measured over 1 epoch, × ${EPOCHS} (val acc after 1 epoch); --full runs them all the way`);
}
