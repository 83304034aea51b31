/**
 * Zoo table (issues 2, 6 and 20): ms/image at batch 1 and 8 per model and engine — ONNX Runtime through our
 * OnnxExtractor, a bare onnxruntime session on the same exported graph, the int8 graph quantized from it, TF.js
 * wasm, and tfjs-node where installed. Random weights (the arithmetic, and so the time, does not depend on the
 * values) except where real ones are here (DenseNet121 from ../shared), which also makes its cosines meaningful.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf, tfjsNodeAvailable } from '../src/engine/backend.js';
import { createExtractor, type Extractor } from '../src/engine/extractor.js';
import { exportToOnnx, OnnxExtractor, OnnxModel } from '../src/engine/onnx/index.js';
import { imageModelIO } from '../src/engine/onnx/io.js';
import { FIDELITY_GATE, quantizeOnnx, type QuantizeReport } from '../src/engine/onnx/quantize/index.js';
import { HeadstartError } from '../src/errors.js';
import { defaultCalibrationImages } from '../src/features/calibration.js';
import { calibrationBatches } from '../src/features/pipeline.js';
import { loadModel } from '../src/weights/index.js';
import { buildModel, featureExtractor, getModelSpec } from '../src/zoo/index.js';
import type { ModelId } from '../src/zoo/types.js';
import { BareOnnxSession } from './bare-onnx.js';
import type { SectionContext } from './context.js';
import { SHARED_DIR } from './images.js';
import { median, timeInterleaved, type TimingPlan } from './stats.js';
import type { BenchTable, Cell } from './table.js';

export const ZOO_MODELS: readonly ModelId[] = ['mobilenet_v2', 'resnet50', 'vgg16', 'inception_v3', 'densenet121'];
export const QUICK_ZOO_MODELS: readonly ModelId[] = ['mobilenet_v2', 'resnet50'];
export const ZOO_BATCHES = [1, 8] as const;

/** Targets from issue 6. */
export const OURS_VS_BARE_TARGET = 1.1;
export const WASM_SPEEDUP_TARGET = 4;
/** Target from issue 20: int8 over fp32 (ours), on ResNet50 and DenseNet121. */
export const INT8_SPEEDUP_TARGET = 1.6;

/** Real weights here, per model (the others are random). */
const SHARED_WEIGHTS: Partial<Record<ModelId, string>> = { densenet121: join(SHARED_DIR, 'models', 'densenet121') };

interface ZooPlan {
  onnx: Required<TimingPlan>;
  tfjs: Required<TimingPlan>;
}

export const zooPlan = (quick: boolean): ZooPlan =>
  quick
    ? { onnx: { warmup: 1, runs: 3, minMs: 2_000, maxRuns: 20 }, tfjs: { warmup: 1, runs: 1, minMs: 1_000, maxRuns: 10 } }
    : { onnx: { warmup: 2, runs: 10, minMs: 10_000, maxRuns: 50 }, tfjs: { warmup: 1, runs: 5, minMs: 5_000, maxRuns: 20 } };

type TfjsBackend = 'wasm' | 'tensorflow';

/** Runs `fn` on a TF.js backend, then switches back (weights move between backends on first use). */
async function onBackend<T>(name: TfjsBackend, fn: () => Promise<T>): Promise<T> {
  await import(name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : ('@tensorflow/tfjs-node' as string));
  const previous = tf.getBackend();
  if (!(await tf.setBackend(name))) throw new HeadstartError('BenchBackend', `TF.js backend '${name}' did not start.`);
  try {
    return await fn();
  } finally {
    await tf.setBackend(previous);
  }
}

/** A batch of n random images in the preprocessed range. */
function randomBatch(n: number, [h, w]: readonly [number, number]): Float32Array {
  return Float32Array.from({ length: n * h * w * 3 }, () => Math.random() * 2 - 1);
}

/** Largest |a − b| relative to b's scale: ours and bare run one graph, so they must agree. */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

async function timeTfjs(extractor: Extractor, backend: TfjsBackend, batch: Float32Array, n: number, plan: TimingPlan): Promise<number> {
  const times = await onBackend(backend, () => timeInterleaved({ run: () => extractor.run(batch, n) }, plan));
  return median(times.run) / n;
}

interface Engines {
  ours: OnnxExtractor;
  bare: BareOnnxSession;
  /** The int8 QDQ graph quantized from the same export (what `--precision int8` runs), and how it was made. */
  int8: OnnxExtractor;
  int8Report: QuantizeReport;
  tfjs: Extractor;
}

/**
 * The int8 graph of one export, calibrated on the default calibration set (what a user gets without
 * `--calibration`), with the gate's numbers but without its refusal: the table shows them either way.
 */
async function quantize(id: ModelId, graph: Uint8Array, log: (line: string) => void): Promise<{ model: Uint8Array; report: QuantizeReport; seconds: number }> {
  const spec = getModelSpec(id);
  const batches = await calibrationBatches(await defaultCalibrationImages(), [spec.inputSize, spec.inputSize], spec.preprocess, 'nearest');
  const started = performance.now();
  const { model, report } = await quantizeOnnx(graph, batches, { gate: false });
  const seconds = (performance.now() - started) / 1000;
  log(`zoo ${id}: int8 quantized in ${seconds.toFixed(0)} s, cosine median ${report.fidelity.median.toFixed(4)} min ${report.fidelity.min.toFixed(4)}`);
  return { model, report, seconds };
}

/** Our ORT extractor, the bare session and the int8 extractor on one exported graph, and the TF.js extractor; all or none. */
async function openEngines(id: ModelId, cut: tf.LayersModel, log: (line: string) => void): Promise<Engines> {
  const graph = exportToOnnx(cut);
  const opened: Array<{ dispose(): void }> = [];
  try {
    const ours = new OnnxExtractor(await OnnxModel.create(graph), imageModelIO(cut));
    opened.push(ours);
    const quantized = await quantize(id, graph, log);
    const int8 = new OnnxExtractor(await OnnxModel.create(quantized.model), { ...imageModelIO(cut), precision: 'int8' });
    opened.push(int8);
    const tfjs = await createExtractor(cut, { engine: 'tfjs' });
    opened.push(tfjs);
    return { ours, bare: await BareOnnxSession.create(graph), int8, int8Report: quantized.report, tfjs };
  } catch (error) {
    for (const engine of opened) engine.dispose();
    throw error;
  }
}

async function closeEngines({ ours, bare, int8, tfjs }: Engines): Promise<void> {
  ours.dispose();
  int8.dispose();
  tfjs.dispose();
  await bare.release();
}

/** One row: every engine on the same random batch of n. */
async function benchBatch(id: ModelId, engines: Engines & { weights: 'real' | 'random' }, n: number, plan: ZooPlan, log: (line: string) => void): Promise<Record<string, Cell>> {
  const { ours, bare, int8, int8Report, tfjs } = engines;
  const [h, w] = ours.inputSize;
  const batch = randomBatch(n, ours.inputSize);
  const difference = relativeDifference(await ours.run(batch, n), await bare.run(batch, n, h, w));
  if (difference > 1e-4) throw new HeadstartError('BenchMismatch', `${id}: our ONNX path and the bare session differ by ${difference} (relative).`);
  const onnx = await timeInterleaved({ ours: () => ours.run(batch, n), bare: () => bare.run(batch, n, h, w), int8: () => int8.run(batch, n) }, plan.onnx);
  const oursMs = median(onnx.ours) / n;
  const bareMs = median(onnx.bare) / n;
  const int8Ms = median(onnx.int8) / n;
  log(`zoo ${id} batch ${n}: ORT ours ${oursMs.toFixed(1)} ms/img, bare ${bareMs.toFixed(1)}, int8 ${int8Ms.toFixed(1)}; timing TF.js`);
  const wasmMs = await timeTfjs(tfjs, 'wasm', batch, n, plan.tfjs);
  const nodeMs = tfjsNodeAvailable() ? await timeTfjs(tfjs, 'tensorflow', batch, n, plan.tfjs) : 'not installed';
  const spec = getModelSpec(id);
  return {
    model: spec.displayName,
    layer: spec.defaultFeatureLayer,
    batch: n,
    ours: oursMs,
    bare: bareMs,
    oursVsBare: oursMs / bareMs,
    int8: int8Ms,
    int8Speedup: oursMs / int8Ms,
    cosineMedian: int8Report.fidelity.median,
    cosineMin: int8Report.fidelity.min,
    gate: int8Report.fidelity.median >= FIDELITY_GATE.median && int8Report.fidelity.min >= FIDELITY_GATE.min ? 'pass' : 'refused',
    weights: engines.weights,
    wasm: wasmMs,
    speedup: wasmMs / oursMs,
    tfjsNode: nodeMs,
  };
}

/** The model with real weights where they are here, else random ones. */
async function zooModel(id: ModelId): Promise<{ model: tf.LayersModel; weights: 'real' | 'random' }> {
  const shared = SHARED_WEIGHTS[id];
  if (shared && existsSync(join(shared, 'model.json'))) return { model: (await loadModel(id, { weights: shared })).model, weights: 'real' };
  return { model: buildModel(id), weights: 'random' };
}

/** Both rows (batch 1 and 8) of one model. */
async function benchModel(id: ModelId, plan: ZooPlan, log: (line: string) => void): Promise<Array<Record<string, Cell>>> {
  const { model, weights } = await zooModel(id);
  try {
    const engines = await openEngines(id, featureExtractor(model, { layer: getModelSpec(id).defaultFeatureLayer }), log);
    try {
      const rows: Array<Record<string, Cell>> = [];
      for (const n of ZOO_BATCHES) rows.push(await benchBatch(id, { ...engines, weights }, n, plan, log));
      return rows;
    } finally {
      await closeEngines(engines);
    }
  } finally {
    model.dispose();
  }
}

export async function runZoo(context: SectionContext): Promise<BenchTable[]> {
  const models = context.args.models ?? (context.args.quick ? QUICK_ZOO_MODELS : ZOO_MODELS);
  const plan = zooPlan(context.args.quick);
  const rows: Array<Record<string, Cell>> = [];
  for (const id of models) {
    context.log(`zoo: ${id}`);
    rows.push(...(await benchModel(id, plan, context.log)));
  }
  return [
    {
      id: 'zoo',
      title: 'Model zoo: ms/image per engine (feature extraction, batch 1 and 8)',
      command: context.command,
      columns: [
        { key: 'model', label: 'model' },
        { key: 'layer', label: 'cut' },
        { key: 'batch', label: 'batch' },
        { key: 'ours', label: 'ORT (ours) ms/img', digits: 1 },
        { key: 'bare', label: 'ORT bare ms/img', digits: 1 },
        { key: 'oursVsBare', label: `ours / bare (≤ ${OURS_VS_BARE_TARGET})`, digits: 2 },
        { key: 'int8', label: 'ORT int8 ms/img', digits: 1 },
        { key: 'int8Speedup', label: `fp32 / int8 (≥ ${INT8_SPEEDUP_TARGET}× on ResNet50, DenseNet121)`, digits: 2, suffix: '×' },
        { key: 'cosineMedian', label: 'int8 cosine median', digits: 4 },
        { key: 'cosineMin', label: 'int8 cosine min', digits: 4 },
        { key: 'gate', label: `gate (≥ ${FIDELITY_GATE.median} / ≥ ${FIDELITY_GATE.min})` },
        { key: 'weights', label: 'weights' },
        { key: 'wasm', label: 'TF.js wasm ms/img', digits: 1 },
        { key: 'speedup', label: `ORT speed-up over wasm (≥ ${WASM_SPEEDUP_TARGET}× on ResNet50)`, digits: 1, suffix: '×' },
        { key: 'tfjsNode', label: 'tfjs-node ms/img', digits: 1 },
      ],
      rows,
      notes: [
        'Random weights (timing does not depend on the values), except DenseNet121 with the real ones of ../shared when there (see the weights column); random inputs in [-1, 1]; the default feature cut of each model (DESIGN.md).',
        `ONNX Runtime: median of ${plan.onnx.runs}–${plan.onnx.maxRuns} runs (at least ${plan.onnx.minMs / 1000} s) after ${plan.onnx.warmup} warm-up, ours, bare and int8 interleaved on the same exported graph with the same session options, the outputs of ours and bare checked equal. TF.js: median of ${plan.tfjs.runs}–${plan.tfjs.maxRuns} runs (at least ${plan.tfjs.minMs / 1000} s) after ${plan.tfjs.warmup} warm-up.`,
        'ours / bare: our OnnxExtractor over a bare onnxruntime-node InferenceSession (1.00 = no overhead). Speed-up: TF.js wasm ms over ORT (ours) ms.',
        'int8: the QDQ graph our quantizer makes from the same export (percentile calibration on the 16 images of the default calibration set, src/features/calibration.ts), timed interleaved with ours and bare; fp32 / int8 is ORT (ours) ms over int8 ms (above 1: int8 is faster). Cosine: int8 vs fp32 features on those 16 images (the fidelity gate\'s numbers; with random weights they say how the quantizer copes with the architecture, not how a real model fares).',
      ],
    },
  ];
}
