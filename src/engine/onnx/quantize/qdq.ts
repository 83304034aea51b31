import { onnx, ONNX_FLOAT } from '../proto.js';
import { attribute, ONNX_INT32, ONNX_INT8, ONNX_UINT8, type EditableGraph, type Node } from './graph.js';

/**
 * Ops whose inputs and outputs get QuantizeLinear/DequantizeLinear by default: each has an int8 kernel in ONNX
 * Runtime. Concat is left out on purpose: DenseNet requantizes its ever-growing concatenations at every layer,
 * and quantizing them dropped DenseNet121's median feature cosine from 0.993 to 0.958 (min-max, 8 images).
 */
export const QUANTIZABLE_OPS = ['Conv', 'MatMul', 'Gemm', 'Add', 'MaxPool', 'AveragePool', 'GlobalAveragePool'] as const;
/** Ops whose weights (second input) are quantized per output channel. */
const WEIGHTED_OPS = new Set(['Conv', 'MatMul', 'Gemm']);
/** Activations a quantized output absorbs: a uint8 range that starts at 0 is ReLU (and ReLU6 when it ends at 6). */
const ABSORBED = new Set(['Relu', 'Clip']);

/** Which tensors to quantize and how; made on the float graph, before calibration. */
export interface QuantizationPlan {
  /** Activation tensors (names in the float graph) whose ranges calibration measures. */
  tensors: string[];
  /** Relu/Clip nodes a producer absorbs: the producer writes the activation's output, the range is the activation's. */
  absorbed: Array<{ producer: Node; activation: Node }>;
  /** Outputs that keep their input's quantization (MaxPool: ONNX Runtime then runs it on uint8 as is). */
  shared: Map<string, string>;
  /** The quantized nodes. */
  nodes: Node[];
}

/** uint8 activation parameters (asymmetric) from a range. */
export interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

function isZero(graph: EditableGraph, name: string | undefined): boolean {
  const value = name ? graph.floats(name) : undefined;
  return value?.data.length === 1 && value.data[0] === 0;
}

function absorbable(graph: EditableGraph, node: Node): Node | undefined {
  if (!['Conv', 'MatMul', 'Gemm', 'Add'].includes(node.opType!)) return undefined;
  const out = node.output[0]!;
  const readers = graph.consumers(out);
  if (readers.length !== 1 || graph.outputNames.includes(out)) return undefined;
  const [activation] = readers;
  if (!ABSORBED.has(activation!.opType!)) return undefined;
  // Clip absorbs only with a lower bound of 0 (ReLU6); a Clip without inputs 1/2 is unbounded.
  if (activation!.opType === 'Clip' && !isZero(graph, activation!.input[1])) return undefined;
  return activation;
}

/** A node the quantizer can take: weights (when it has them) are float initializers, other inputs activations. */
function quantizable(graph: EditableGraph, node: Node, ops: ReadonlySet<string>): boolean {
  if (!ops.has(node.opType!)) return false;
  if (WEIGHTED_OPS.has(node.opType!)) return graph.floats(node.input[1]!) !== undefined && !graph.isInitializer(node.input[0]!);
  return node.input.every((i) => !graph.isInitializer(i));
}

export function planQuantization(graph: EditableGraph, ops: readonly string[] = QUANTIZABLE_OPS): QuantizationPlan {
  const types = new Set(ops);
  const nodes = graph.nodes.filter((n) => quantizable(graph, n, types));
  const absorbed = nodes.flatMap((producer) => {
    const activation = absorbable(graph, producer);
    return activation ? [{ producer, activation }] : [];
  });
  const outputOf = (node: Node) => absorbed.find((a) => a.producer === node)?.activation.output[0] ?? node.output[0]!;
  const tensors = new Set<string>();
  const shared = new Map<string, string>();
  for (const node of nodes) {
    const activations = WEIGHTED_OPS.has(node.opType!) ? [node.input[0]!] : node.input;
    for (const input of activations) if (graph.producer(input)) tensors.add(input);
    if (node.opType === 'MaxPool') shared.set(outputOf(node), node.input[0]!);
    else tensors.add(outputOf(node));
  }
  // A MaxPool output read by another quantized node keeps the MaxPool's (shared) parameters.
  for (const output of shared.keys()) tensors.delete(output);
  return { tensors: [...tensors], absorbed, shared, nodes };
}

/** uint8 asymmetric parameters for a range; the range always holds 0 (so zero pads and ReLU are exact). */
export function activationParams(min: number, max: number): ActivationParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/** Symmetric int8 per-channel weights along `axis`: scale_c = max|w_c| / 127, zero point 0. */
export function quantizeWeights(data: Float32Array, dims: readonly number[], axis: number): { values: Int8Array; scales: Float32Array } {
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = new Float32Array(channels);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    scales[c] = Math.max(scales[c]!, Math.abs(data[i]!));
  }
  for (let c = 0; c < channels; c++) scales[c] = scales[c]! > 0 ? scales[c]! / 127 : 1;
  const values = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) values[i] = Math.max(-127, Math.min(127, Math.round(data[i]! / scales[channelOf(i)]!)));
  return { values, scales };
}

/** The output-channel axis of a node's weight: Conv O×I×kh×kw → 0; MatMul K×N → 1; Gemm by transB. */
function channelAxis(node: Node): number {
  if (node.opType === 'Conv') return 0;
  if (node.opType === 'Gemm') return Number(attribute(node, 'transB')?.i ?? 0) === 1 ? 0 : 1;
  return 1;
}

/**
 * Rewrites the float graph in QDQ form: absorbed activations removed, every planned tensor passed through
 * QuantizeLinear → DequantizeLinear (uint8, per tensor), weights stored as int8 with per-channel scales
 * behind a DequantizeLinear, biases as int32 at input scale × weight scale. ONNX Runtime's QDQ transformer
 * turns each DQ → op → Q group into its int8 kernel (QLinearConv, QGemm, QLinearAdd…).
 */
export function applyQuantization(graph: EditableGraph, plan: QuantizationPlan, params: Map<string, ActivationParams>): void {
  for (const { producer, activation } of plan.absorbed) {
    producer.output = [activation.output[0]!];
    graph.nodes = graph.nodes.filter((n) => n !== activation);
  }
  const paramsOf = (tensor: string): ActivationParams => {
    const p = params.get(plan.shared.get(tensor) ?? tensor);
    if (!p) throw new Error(`no calibrated range for ${tensor}`);
    return p;
  };
  for (const node of plan.nodes) if (WEIGHTED_OPS.has(node.opType!)) quantizeWeightInputs(graph, node, paramsOf(node.input[0]!).scale);
  for (const tensor of [...plan.tensors, ...plan.shared.keys()]) insertQdq(graph, tensor, paramsOf(tensor));
}

function scalarInitializers(graph: EditableGraph, base: string, p: ActivationParams): [string, string] {
  const scale = graph.unique(`${base}/scale`);
  const zeroPoint = graph.unique(`${base}/zero_point`);
  graph.setInitializer(scale, ONNX_FLOAT, [], Float32Array.of(p.scale));
  graph.setInitializer(zeroPoint, ONNX_UINT8, [], Uint8Array.of(p.zeroPoint));
  return [scale, zeroPoint];
}

/** producer → tensor becomes producer → Q → DQ → tensor: every reader (and a graph output) sees the DQ. */
function insertQdq(graph: EditableGraph, tensor: string, p: ActivationParams): void {
  const producer = graph.producer(tensor);
  if (!producer) return;
  const float = graph.unique(`${tensor}/float`);
  const quantized = graph.unique(`${tensor}/quantized`);
  const [scale, zeroPoint] = scalarInitializers(graph, tensor, p);
  producer.output = producer.output.map((o) => (o === tensor ? float : o));
  const at = graph.nodes.indexOf(producer) + 1;
  graph.nodes.splice(
    at,
    0,
    { opType: 'QuantizeLinear', name: graph.unique(`${tensor}/QuantizeLinear`), input: [float, scale, zeroPoint], output: [quantized] },
    { opType: 'DequantizeLinear', name: graph.unique(`${tensor}/DequantizeLinear`), input: [quantized, scale, zeroPoint], output: [tensor] },
  );
}

function dequantizeNode(graph: EditableGraph, node: Node, input: string, outputBase: string, axis: number): string {
  const output = graph.unique(outputBase);
  const at = graph.nodes.indexOf(node);
  graph.nodes.splice(at, 0, {
    opType: 'DequantizeLinear',
    name: output,
    input: [input, `${input}/scale`, `${input}/zero_point`],
    output: [output],
    attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis }],
  });
  return output;
}

function quantizeWeightInputs(graph: EditableGraph, node: Node, inputScale: number): void {
  const weightName = node.input[1]!;
  const weight = graph.floats(weightName)!;
  const axis = channelAxis(node);
  const { values, scales } = quantizeWeights(weight.data, weight.dims, axis);
  const q = graph.unique(`${weightName}/int8`);
  graph.setInitializer(q, ONNX_INT8, weight.dims, values);
  graph.setInitializer(`${q}/scale`, ONNX_FLOAT, [scales.length], scales);
  graph.setInitializer(`${q}/zero_point`, ONNX_INT8, [scales.length], new Int8Array(scales.length));
  node.input[1] = dequantizeNode(graph, node, q, `${weightName}/dequantized`, axis);
  const biasName = node.input[2];
  const bias = biasName ? graph.floats(biasName) : undefined;
  if (!biasName || !bias) return;
  // Bias at the accumulator's scale (input × weight), zero point 0: the int8 kernel adds it as int32.
  const biasScales = scales.map((s) => s * inputScale);
  const values32 = Int32Array.from(bias.data, (b, c) => Math.round(b / biasScales[c]!));
  const b32 = graph.unique(`${biasName}/int32`);
  graph.setInitializer(b32, ONNX_INT32, bias.dims, values32);
  graph.setInitializer(`${b32}/scale`, ONNX_FLOAT, [biasScales.length], biasScales);
  graph.setInitializer(`${b32}/zero_point`, ONNX_INT32, [biasScales.length], new Int32Array(biasScales.length));
  node.input[2] = dequantizeNode(graph, node, b32, `${biasName}/dequantized`, 0);
}
