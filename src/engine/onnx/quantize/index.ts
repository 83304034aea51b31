/**
 * Static int8 quantization of the graphs our exporter writes, in QDQ form (what onnxruntime.quantization's
 * quantize_static writes with QuantFormat.QDQ, per_channel=True): BatchNorms folded into their Convs,
 * per-channel symmetric int8 weights, uint8 activations with ranges calibrated on images, and a fidelity gate.
 */
import { Int8FidelityError } from '../errors.js';
import { loadOnnxRuntime } from '../runtime.js';
import { calibrateRanges, type CalibrationMethod, type CalibrationOptions } from './calibrate.js';
import { foldBatchNorms } from './fold.js';
import { EditableGraph } from './graph.js';
import { activationParams, applyQuantization, planQuantization } from './qdq.js';

export { CALIBRATION_METHODS, type CalibrationMethod, type CalibrationOptions } from './calibrate.js';
export { activationParams, quantizeWeights } from './qdq.js';

/** The gate (issue 20): int8 features must keep these cosines to fp32 ones on the calibration images. */
export const FIDELITY_GATE = { median: 0.99, min: 0.95 } as const;

/** A preprocessed NHWC batch, as the extractor runs it. */
export interface CalibrationBatch {
  data: Float32Array;
  dims: [number, number, number, number];
}

export interface QuantizeOptions extends Partial<CalibrationOptions> {
  /** The op types to quantize. @default QUANTIZABLE_OPS */
  ops?: readonly string[];
  /** Check the result against FIDELITY_GATE and throw Int8FidelityError below it. @default true */
  gate?: boolean;
}

export interface Fidelity {
  /** Per calibration image: cosine between its int8 and fp32 features. */
  cosines: number[];
  median: number;
  min: number;
}

export interface QuantizeReport {
  method: CalibrationMethod;
  images: number;
  foldedBatchNorms: number;
  quantizedNodes: number;
  fidelity: Fidelity;
}

export interface QuantizedGraph {
  model: Uint8Array;
  report: QuantizeReport;
}

/** Cosine similarity of two equally long vectors (1 for two zero vectors). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb || 1e-30);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs one graph over the batches; returns one feature vector per image (first output). */
async function features(graph: Uint8Array, inputName: string, batches: readonly CalibrationBatch[]): Promise<Float32Array[]> {
  const ort = await loadOnnxRuntime();
  const session = await ort.InferenceSession.create(graph, { graphOptimizationLevel: 'all' });
  try {
    const out: Float32Array[] = [];
    for (const batch of batches) {
      const result = await session.run({ [inputName]: new ort.Tensor('float32', batch.data, batch.dims) });
      const data = result[session.outputNames[0]!]!.data as Float32Array;
      const size = data.length / batch.dims[0];
      for (let i = 0; i < batch.dims[0]; i++) out.push(data.slice(i * size, (i + 1) * size));
    }
    return out;
  } finally {
    await session.release();
  }
}

/** Cosines between the fp32 and int8 graphs' features on the same batches. */
export async function measureFidelity(fp32: Uint8Array, int8: Uint8Array, inputName: string, batches: readonly CalibrationBatch[]): Promise<Fidelity> {
  const [reference, quantized] = [await features(fp32, inputName, batches), await features(int8, inputName, batches)];
  const cosines = reference.map((r, i) => cosine(quantized[i]!, r));
  return { cosines, median: median(cosines), min: Math.min(...cosines) };
}

/**
 * Quantizes an fp32 ONNX graph (one image input, NHWC, as exportToOnnx writes) to int8 QDQ, calibrated on
 * `batches` (preprocessed images). ONNX Runtime runs it on its int8 kernels (VNNI where the CPU has it).
 * @throws Int8FidelityError when the int8 features fall below FIDELITY_GATE on the calibration images (the
 *   numbers are in the message), unless `gate` is false.
 */
export async function quantizeOnnx(fp32: Uint8Array, batches: readonly CalibrationBatch[], options: QuantizeOptions = {}): Promise<QuantizedGraph> {
  const method = options.method ?? 'percentile';
  const graph = new EditableGraph(fp32);
  const [inputName] = graph.inputNames;
  const foldedBatchNorms = foldBatchNorms(graph);
  const plan = planQuantization(graph, options.ops);
  const ranges = await calibrateRanges(graph.encode(plan.tensors), inputName!, batches, plan.tensors, { method, percentile: options.percentile });
  const params = new Map([...ranges].map(([t, [min, max]]) => [t, activationParams(min, max)]));
  applyQuantization(graph, plan, params);
  const model = graph.encode();
  const fidelity = await measureFidelity(fp32, model, inputName!, batches);
  const report: QuantizeReport = { method, images: batches.reduce((n, b) => n + b.dims[0], 0), foldedBatchNorms, quantizedNodes: plan.nodes.length, fidelity };
  if ((options.gate ?? true) && (fidelity.median < FIDELITY_GATE.median || fidelity.min < FIDELITY_GATE.min)) {
    throw new Int8FidelityError(
      `int8 refused: on ${report.images} calibration image(s) the cosine between int8 and fp32 features has median ` +
        `${fidelity.median.toFixed(4)} and minimum ${fidelity.min.toFixed(4)}; the gate is median ≥ ${FIDELITY_GATE.median} ` +
        `and minimum ≥ ${FIDELITY_GATE.min} (calibration '${method}'). Use precision 'fp32' for this model.`,
    );
  }
  return { model, report };
}
