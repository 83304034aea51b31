/**
 * Zoo table (issues 2 and 6): ms/image at batch 1 and 8 per model and engine — ONNX Runtime through our
 * OnnxExtractor, a bare onnxruntime session on the same exported graph, TF.js wasm, and tfjs-node where
 * installed. Random weights: the arithmetic, and so the time, does not depend on the values.
 */
import { tf, tfjsNodeAvailable } from '../src/engine/backend.js';
import { createExtractor, type Extractor } from '../src/engine/extractor.js';
import { exportToOnnx, OnnxExtractor, OnnxModel } from '../src/engine/onnx/index.js';
import { imageModelIO } from '../src/engine/onnx/io.js';
import { HeadstartError } from '../src/errors.js';
import { buildModel, featureExtractor, getModelSpec } from '../src/zoo/index.js';
import type { ModelId } from '../src/zoo/types.js';
import { BareOnnxSession } from './bare-onnx.js';
import type { SectionContext } from './context.js';
import { median, timeInterleaved, type TimingPlan } from './stats.js';
import type { BenchTable, Cell } from './table.js';

export const ZOO_MODELS: readonly ModelId[] = ['mobilenet_v2', 'resnet50', 'vgg16', 'inception_v3', 'densenet121'];
export const QUICK_ZOO_MODELS: readonly ModelId[] = ['mobilenet_v2', 'resnet50'];
export const ZOO_BATCHES = [1, 8] as const;

/** Targets from issue 6. */
export const OURS_VS_BARE_TARGET = 1.1;
export const WASM_SPEEDUP_TARGET = 4;

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
  tfjs: Extractor;
}

/** Our ORT extractor and the bare session on one exported graph, and the TF.js extractor; all or none. */
async function openEngines(cut: tf.LayersModel): Promise<Engines> {
  const graph = exportToOnnx(cut);
  const ours = new OnnxExtractor(await OnnxModel.create(graph), imageModelIO(cut));
  try {
    return { ours, bare: await BareOnnxSession.create(graph), tfjs: await createExtractor(cut, { engine: 'tfjs' }) };
  } catch (error) {
    ours.dispose();
    throw error;
  }
}

async function closeEngines({ ours, bare, tfjs }: Engines): Promise<void> {
  ours.dispose();
  tfjs.dispose();
  await bare.release();
}

/** One row: every engine on the same random batch of n. */
async function benchBatch(id: ModelId, engines: Engines, n: number, plan: ZooPlan, log: (line: string) => void): Promise<Record<string, Cell>> {
  const { ours, bare, tfjs } = engines;
  const [h, w] = ours.inputSize;
  const batch = randomBatch(n, ours.inputSize);
  const difference = relativeDifference(await ours.run(batch, n), await bare.run(batch, n, h, w));
  if (difference > 1e-4) throw new HeadstartError('BenchMismatch', `${id}: our ONNX path and the bare session differ by ${difference} (relative).`);
  const onnx = await timeInterleaved({ ours: () => ours.run(batch, n), bare: () => bare.run(batch, n, h, w) }, plan.onnx);
  const oursMs = median(onnx.ours) / n;
  const bareMs = median(onnx.bare) / n;
  log(`zoo ${id} batch ${n}: ORT ours ${oursMs.toFixed(1)} ms/img, bare ${bareMs.toFixed(1)}; timing TF.js`);
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
    wasm: wasmMs,
    speedup: wasmMs / oursMs,
    tfjsNode: nodeMs,
  };
}

/** Both rows (batch 1 and 8) of one model. */
async function benchModel(id: ModelId, plan: ZooPlan, log: (line: string) => void): Promise<Array<Record<string, Cell>>> {
  const model = buildModel(id);
  try {
    const engines = await openEngines(featureExtractor(model, { layer: getModelSpec(id).defaultFeatureLayer }));
    try {
      const rows: Array<Record<string, Cell>> = [];
      for (const n of ZOO_BATCHES) rows.push(await benchBatch(id, engines, n, plan, log));
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
        { key: 'wasm', label: 'TF.js wasm ms/img', digits: 1 },
        { key: 'speedup', label: `ORT speed-up over wasm (≥ ${WASM_SPEEDUP_TARGET}× on ResNet50)`, digits: 1, suffix: '×' },
        { key: 'tfjsNode', label: 'tfjs-node ms/img', digits: 1 },
      ],
      rows,
      notes: [
        'Random weights (timing does not depend on the values); random inputs in [-1, 1]; the default feature cut of each model (DESIGN.md).',
        `ONNX Runtime: median of ${plan.onnx.runs}–${plan.onnx.maxRuns} runs (at least ${plan.onnx.minMs / 1000} s) after ${plan.onnx.warmup} warm-up, ours and bare interleaved on the same exported graph with the same session options, outputs checked equal. TF.js: median of ${plan.tfjs.runs}–${plan.tfjs.maxRuns} runs (at least ${plan.tfjs.minMs / 1000} s) after ${plan.tfjs.warmup} warm-up.`,
        'ours / bare: our OnnxExtractor over a bare onnxruntime-node InferenceSession (1.00 = no overhead). Speed-up: TF.js wasm ms over ORT (ours) ms.',
      ],
    },
  ];
}
