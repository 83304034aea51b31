import { ONNX_FLOAT } from '../proto.js';
import { attribute, type EditableGraph } from './graph.js';

/**
 * Folds every BatchNormalization that directly follows a Conv (its only reader) into that Conv's weights and
 * bias: W' = W·s, b' = (b − mean)·s + beta with s = gamma / √(var + ε). Exact in real arithmetic, and what
 * onnxruntime's own quantization preprocessing does first: a Conv then quantizes with its BatchNorm inside it
 * and runs as one int8 kernel. A BatchNormalization after anything else (DenseNet's after a Concat) stays.
 * Returns how many were folded.
 */
export function foldBatchNorms(graph: EditableGraph): number {
  let folded = 0;
  for (const bn of [...graph.nodes]) {
    if (bn.opType !== 'BatchNormalization') continue;
    const conv = graph.producer(bn.input[0]!);
    if (conv?.opType !== 'Conv' || graph.consumers(conv.output[0]!).length !== 1 || graph.outputNames.includes(conv.output[0]!)) continue;
    const weight = graph.floats(conv.input[1]!);
    const [gamma, beta, mean, variance] = bn.input.slice(1, 5).map((n) => graph.floats(n));
    if (!weight || !gamma || !beta || !mean || !variance) continue;
    const epsilon = attribute(bn, 'epsilon')?.f ?? 1e-5;
    const channels = weight.dims[0]!;
    const perChannel = weight.data.length / channels;
    const bias = (conv.input[2] ? graph.floats(conv.input[2]) : undefined)?.data ?? new Float32Array(channels);
    const w = weight.data;
    const b = new Float32Array(channels);
    for (let o = 0; o < channels; o++) {
      const s = gamma.data[o]! / Math.sqrt(variance.data[o]! + epsilon);
      for (let i = o * perChannel; i < (o + 1) * perChannel; i++) w[i] = w[i]! * s;
      b[o] = (bias[o]! - mean.data[o]!) * s + beta.data[o]!;
    }
    const weightName = graph.unique(`${conv.input[1]}/bn_folded`);
    const biasName = graph.unique(`${conv.input[1]}/bn_folded_bias`);
    graph.setInitializer(weightName, ONNX_FLOAT, weight.dims, w);
    graph.setInitializer(biasName, ONNX_FLOAT, [channels], b);
    conv.input = [conv.input[0]!, weightName, biasName];
    conv.output = [bn.output[0]!];
    graph.nodes = graph.nodes.filter((n) => n !== bn);
    folded++;
  }
  return folded;
}
