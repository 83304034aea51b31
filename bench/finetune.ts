/**
 * Fine-tuning benchmark and real check (issue 8). `benchFinetune()` returns one row per case;
 * `node bin/run-ts.js bench/finetune.ts [--quick] [--only throughput,estimate,real] [--per-class 40]` prints them as a table.
 *
 * - throughput: images/second of one training step (forward + backward + Adam) on this machine's TF.js
 *   backend, random weights, 224×224, for MobileNetV2 and DenseNet121: the top block trainable with the
 *   frozen part recomputed every step (what an augmented epoch costs), the same step on cached frozen
 *   activations (a non-augmented epoch after the first), and the whole network trainable.
 * - estimate: the same cases on a g5.xlarge (one A10G), on paper, from public figures (see ESTIMATES).
 * - real: DenseNet121 with the ../shared ImageNet weights on ../shared/datasets/fashion-mnist-small,
 *   a subset of train/ split 80/20 (stratified, seed 42): a head trained on frozen features (the
 *   two-stage recipe's first stage, features by the extraction engine) against that head fine-tuned with
 *   the last dense block (conv5) unfrozen, by runFinetuneJob, on the same split.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initBackend, tf } from '../src/engine/backend.js';
import { listDatasetImages, splitImages, type ImageSet } from '../src/finetune/data.js';
import { FinetuneNetwork, FinetuneTrainer, freshHead, runFinetuneJob, type UnfreezeSpec } from '../src/finetune/index.js';
import { FeaturePipeline } from '../src/features/pipeline.js';
import { mulberry32 } from '../src/heads/random.js';
import { trainHead } from '../src/heads/train.js';
import type { TrainData } from '../src/heads/types.js';
import { newJobId } from '../src/jobs/records.js';
import { publishHead } from '../src/registry/publish.js';
import { MemoryStore } from '../src/store/index.js';
import { LIBRARY_VERSION } from '../src/version.js';
import { importWeights } from '../src/weights/index.js';
import { buildModel } from '../src/zoo/index.js';

export interface FinetuneBenchRow {
  case: 'throughput' | 'estimate (paper)' | 'real check';
  model: string;
  /** Where it ran: the TF.js backend here, or the instance an estimate is for. */
  on: string;
  input: number;
  batch: number | null;
  /** What trains: a block, 'all', or 'head only'. */
  trainable: string;
  /** Forward + backward + update, per second (throughput and estimate rows). */
  imagesPerSecond: number | null;
  /** Validation accuracy (real check rows). */
  valAccuracy: number | null;
  note: string;
}

export interface BenchFinetuneOptions {
  /** One timed step, no whole-network rows, and the real check only when `only` names it (then 10 per class, 2 epochs). @default false */
  quick?: boolean;
  /** Only these parts: 'throughput', 'estimate', 'real'. @default all */
  only?: string[];
  onRow?: (row: FinetuneBenchRow) => void;
  /** Images per class from fashion-mnist-small/train for the real check. @default 30 (quick: 10) */
  perClass?: number;
}

const SIZE = 224;
const SHARED = fileURLToPath(new URL('../../shared/', import.meta.url));

/** The block each model's fine-tuning unfreezes in the throughput rows: its last block. */
const TOP_BLOCK: Record<string, string> = { mobilenet_v2: 'block_16', densenet121: 'conv5' };

interface StepTiming {
  imagesPerSecond: number;
  trainableParams: number;
}

/** Median-free and simple: one warm-up step, then `steps` timed ones; images/second over the timed steps. */
async function timeSteps(model: string, unfreeze: UnfreezeSpec | 'all', batch: number, steps: number, cached: boolean): Promise<StepTiming> {
  const base = buildModel(model, { includeTop: false, pooling: 'avg', inputShape: [SIZE, SIZE, 3] });
  const spec = unfreeze === 'all' ? { lastN: base.layers.length - 1 } : unfreeze;
  const network = FinetuneNetwork.create(base, freshHead(10, { hidden: 100, dropout: 0.2, seed: 1 }), spec);
  const trainer = new FinetuneTrainer(network, 1e-5);
  const x = tf.randomUniform([batch, SIZE, SIZE, 3], -1, 1) as tf.Tensor4D;
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const dropout = mulberry32(1);
  // Cached: the frozen part ran once, as in every non-augmented epoch after the first.
  const frozen = cached ? network.frozenForward(x) : undefined;
  try {
    const step = () => {
      const frontier = frozen ?? network.frozenForward(x);
      trainer.step(frontier, labels, dropout);
      if (!frozen) tf.dispose(frontier);
    };
    step();
    const started = performance.now();
    for (let i = 0; i < steps; i++) step();
    const seconds = (performance.now() - started) / 1000;
    return { imagesPerSecond: (steps * batch) / seconds, trainableParams: network.paramCounts().trainable };
  } finally {
    tf.dispose([x, ...(frozen ?? [])]);
    trainer.dispose();
    network.dispose();
  }
}

async function throughputRows(quick: boolean, emit: (row: FinetuneBenchRow) => void): Promise<void> {
  const backend = tf.getBackend();
  const cases: Array<{ model: string; unfreeze: UnfreezeSpec | 'all'; batch: number; cached: boolean; label: string }> = [];
  for (const model of ['mobilenet_v2', 'densenet121']) {
    const block = TOP_BLOCK[model]!;
    cases.push({ model, unfreeze: block, batch: 8, cached: false, label: `${block} + head, frozen part every step` });
    cases.push({ model, unfreeze: block, batch: 8, cached: true, label: `${block} + head, frozen part cached` });
    // The whole network: every activation is kept for the backward pass, so a smaller batch.
    if (!quick) cases.push({ model, unfreeze: 'all', batch: 4, cached: false, label: 'all' });
  }
  for (const c of cases) {
    try {
      const timing = await timeSteps(c.model, c.unfreeze, c.batch, quick ? 1 : 2, c.cached);
      emit({
        case: 'throughput', model: c.model, on: `TF.js ${backend}`, input: SIZE, batch: c.batch, trainable: c.label,
        imagesPerSecond: round(timing.imagesPerSecond, 2), valAccuracy: null,
        note: `${timing.trainableParams.toLocaleString('en-US')} trainable parameters; random weights`,
      });
    } catch (error) {
      emit({ case: 'throughput', model: c.model, on: `TF.js ${backend}`, input: SIZE, batch: c.batch, trainable: c.label, imagesPerSecond: null, valAccuracy: null, note: `failed: ${(error as Error).message}` });
    }
  }
}

/**
 * g5.xlarge = one NVIDIA A10G (24 GB; 31.2 TFLOPS FP32, 125 TFLOPS FP16 tensor; 600 GB/s), 4 vCPUs.
 * Anchor: NVIDIA's DeepLearningExamples ResNet-50 v1.5 training, 1 GPU: V100 367 img/s FP32 / 1,200 AMP,
 * A100 938 TF32 / 2,470 AMP. The A10G sits near a V100 for CNN training (more FP32 FLOPs, two thirds of
 * the memory bandwidth), so ResNet-50 ≈ 350 img/s FP32, ≈ 900 AMP. Scaled per model by measured GPU
 * training speed relative to ResNet-50 as commonly reported (DenseNet121 ≈ 0.8×: fewer FLOPs but
 * bandwidth-bound concatenations; MobileNetV2 ≈ 2.5×: depthwise convolutions are bandwidth-bound), and for
 * a trainable top block by the share of work left (forward of everything, backward of the block ≈ 40% of
 * a full step). Native TensorFlow/PyTorch with cuDNN; TF.js through tfjs-node-gpu would be slower.
 */
const ESTIMATES: Array<{ model: string; trainable: string; fp32: number; amp: number }> = [
  { model: 'mobilenet_v2', trainable: 'all', fp32: 875, amp: 2000 },
  { model: 'mobilenet_v2', trainable: 'block_16 + head', fp32: 2000, amp: 4500 },
  { model: 'densenet121', trainable: 'all', fp32: 280, amp: 700 },
  { model: 'densenet121', trainable: 'conv5 + head', fp32: 700, amp: 1700 },
];

function estimateRows(emit: (row: FinetuneBenchRow) => void): void {
  for (const e of ESTIMATES) {
    emit({
      case: 'estimate (paper)', model: e.model, on: 'g5.xlarge (A10G), estimate', input: SIZE, batch: 64, trainable: e.trainable,
      imagesPerSecond: e.fp32, valAccuracy: null,
      note: `ESTIMATE from public figures, not measured: FP32 ≈ ${e.fp32}, mixed precision ≈ ${e.amp} img/s (see ESTIMATES in bench/finetune.ts)`,
    });
  }
}

/** The first `perClass` images of each class of fashion-mnist-small/train, under images/fmnist/<label>/. */
async function putFashionSubset(store: MemoryStore, perClass: number): Promise<void> {
  const root = join(SHARED, 'datasets/fashion-mnist-small/train');
  for (const label of (await readdir(root)).sort()) {
    const files = (await readdir(join(root, label))).sort().slice(0, perClass);
    for (const file of files) await store.put(`images/fmnist/${label}/${file}`, await readFile(join(root, label, file)));
  }
}

async function featuresOf(store: MemoryStore, pipeline: FeaturePipeline, set: ImageSet, labels: string[]): Promise<TrainData> {
  const results = await pipeline.extract(await Promise.all(set.keys.map((k) => store.get(k))));
  const dim = results[0]!.ok ? results[0]!.features.length : 0;
  const features = new Float32Array(set.keys.length * dim);
  results.forEach((r, i) => {
    if (!r.ok) throw r.error;
    features.set(r.features, i * dim);
  });
  return { features, dim, labels: Array.from(set.labelIndex, (c) => labels[c]!), keys: set.keys };
}

/** Stage 1: a head on frozen features (the extraction engine, as the service caches them), published to the registry. */
async function headOnly(store: MemoryStore, home: string, labels: string[], train: ImageSet, validation: ImageSet): Promise<{ accuracy: number; seconds: number }> {
  const started = performance.now();
  const pipeline = await FeaturePipeline.create({ model: 'densenet121', cut: { pooling: 'avg' }, weights: 'imagenet', home, batchSize: 16 });
  try {
    const [trainData, validationData] = [await featuresOf(store, pipeline, train, labels), await featuresOf(store, pipeline, validation, labels)];
    const trained = await trainHead(trainData, { seed: 42 }, { validation: validationData });
    const ns = pipeline.namespace;
    await publishHead(store, {
      model: trained.model,
      info: {
        headId: 'fmnist-head', dataset: 'fmnist', validationDataset: null, labels: trained.labels, inputDim: trainData.dim,
        base: { ...ns, namespace: `${ns.model}@${ns.weightsDigest}/${ns.layer}` },
        training: { spec: trained.config, epochs: trained.history.length, bestEpoch: trained.bestEpoch, rows: { train: train.keys.length, validation: validation.keys.length }, backend: tf.getBackend(), durationMs: 0 },
        library: LIBRARY_VERSION, createdAt: new Date().toISOString(), jobId: null,
      },
      metrics: { ...trained.metrics, evaluatedOn: 'validation-dataset', rows: validation.keys.length, bestEpoch: trained.bestEpoch, history: trained.history },
    });
    trained.model.dispose();
    return { accuracy: trained.metrics.accuracy, seconds: (performance.now() - started) / 1000 };
  } finally {
    pipeline.dispose();
  }
}

async function realCheckRows(perClass: number, epochs: number, emit: (row: FinetuneBenchRow) => void): Promise<void> {
  const home = await mkdtemp(join(os.tmpdir(), 'headstart-bench-finetune-'));
  try {
    await importWeights(join(SHARED, 'models/densenet121'), { model: 'densenet121', home });
    const store = new MemoryStore();
    await putFashionSubset(store, perClass);
    const { labels, all } = await listDatasetImages(store, 'fmnist');
    // The job draws this same split (same images, fraction and seed).
    const { train, validation } = splitImages(all, labels, 0.2, 42);
    const rows = `${train.keys.length} train / ${validation!.keys.length} validation images (${perClass} per class of train/, split 80/20, seed 42)`;
    const head = await headOnly(store, home, labels, train, validation!);
    emit({
      case: 'real check', model: 'densenet121', on: 'extraction engine + TF.js head', input: SIZE, batch: 64, trainable: 'head only (frozen features)',
      imagesPerSecond: null, valAccuracy: round(head.accuracy, 4), note: `${rows}; head 1024 → 256 → 10, ${head.seconds.toFixed(0)} s`,
    });
    const started = performance.now();
    const result = await runFinetuneJob(store, newJobId(), { dataset: 'fmnist', model: 'densenet121', unfreeze: 'conv5', fromHead: 'fmnist-head', epochs, batchSize: 16 }, { home });
    const history = result.history.map((h) => `${h.epoch}: val ${((h.valAccuracy ?? 0) * 100).toFixed(1)}%, loss ${(h.valLoss ?? 0).toFixed(3)}`).join('; ');
    emit({
      case: 'real check', model: 'densenet121', on: `TF.js ${tf.getBackend()}`, input: SIZE, batch: 16, trainable: 'conv5 + head (from the head above)',
      imagesPerSecond: null, valAccuracy: round(result.metrics.accuracy, 4),
      note: `${rows}; Adam 1e-5, ${epochs} epochs (${history}), best epoch by validation loss ${result.bestEpoch}; ${result.config.unfreeze.trainableParams.toLocaleString('en-US')} trainable parameters; ${((performance.now() - started) / 1000).toFixed(0)} s`,
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

export async function benchFinetune(options: BenchFinetuneOptions = {}): Promise<FinetuneBenchRow[]> {
  await initBackend();
  const quick = options.quick ?? false;
  const wanted = (part: string) => !options.only || options.only.includes(part);
  const rows: FinetuneBenchRow[] = [];
  const emit = (row: FinetuneBenchRow) => {
    rows.push(row);
    options.onRow?.(row);
  };
  if (wanted('throughput')) await throughputRows(quick, emit);
  if (wanted('estimate')) estimateRows(emit);
  // The real check reads every image through DenseNet121 on wasm (minutes): a quick run skips it unless asked by name.
  const real = quick ? options.only?.includes('real') === true : wanted('real');
  if (real) await realCheckRows(options.perClass ?? (quick ? 10 : 30), quick ? 2 : 3, emit);
  return rows;
}

function formatTable(rows: FinetuneBenchRow[]): string {
  const keys = ['case', 'model', 'on', 'input', 'batch', 'trainable', 'imagesPerSecond', 'valAccuracy', 'note'] as const;
  const cells = rows.map((r) => keys.map((k) => (r[k] === null ? '–' : String(r[k]))));
  return [`| ${keys.join(' | ')} |`, `|${keys.map(() => '---').join('|')}|`, ...cells.map((c) => `| ${c.join(' | ')} |`)].join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const inline = args.find((a) => a.startsWith(`--${name}=`));
    if (inline) return inline.slice(name.length + 3);
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const quick = args.includes('--quick');
  const only = value('only')?.split(',');
  const perClass = value('per-class') === undefined ? undefined : Number(value('per-class'));
  const backend = await initBackend();
  console.log(`command: node bin/run-ts.js bench/finetune.ts ${process.argv.slice(2).join(' ')}`.trim());
  console.log(`machine: ${os.cpus()[0]?.model.trim() ?? 'unknown'}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; TF.js ${backend}`);
  const rows = await benchFinetune({ quick, only, perClass, onRow: (row) => console.error(`measured: ${JSON.stringify(row)}`) });
  console.log(formatTable(rows));
}
