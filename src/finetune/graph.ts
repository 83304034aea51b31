import type { tf } from '../engine/backend.js';

type Layer = tf.layers.Layer;

/** Computes one layer call's outputs from its inputs (concrete tensors). */
export type LayerCall = (layer: Layer, inputs: tf.Tensor[]) => tf.Tensor[];

/**
 * Evaluates a functional graph on concrete tensors from any cut through it: `seeds` maps symbolic
 * tensor ids (model inputs, or the outputs of frozen layers) to values, and only the layer calls
 * between the seeds and `fetches` run, in dependency order. That is what lets a training step run
 * only the trainable part on cached activations, and call every layer with the arguments we choose
 * (BatchNormalization with `training: false`, our own dropout). Iterative: DenseNet has 400+ layers.
 * Created tensors belong to the caller's scope (run it inside tf.tidy or a gradient function).
 */
export function runGraph(seeds: ReadonlyMap<number, tf.Tensor>, fetches: readonly tf.SymbolicTensor[], call: LayerCall): tf.Tensor[] {
  const values = new Map(seeds);
  const stack = [...fetches];
  while (stack.length > 0) {
    const tensor = stack[stack.length - 1]!;
    if (values.has(tensor.id)) {
      stack.pop();
      continue;
    }
    const node = tensor.sourceLayer.inboundNodes[tensor.nodeIndex]!;
    if (node.inputTensors.length === 0) throw new Error(`runGraph: no value for the graph input '${tensor.name}'.`);
    const pending = node.inputTensors.filter((t) => !values.has(t.id));
    if (pending.length > 0) {
      stack.push(...pending);
      continue;
    }
    stack.pop();
    const outputs = call(tensor.sourceLayer, node.inputTensors.map((t) => values.get(t.id)!));
    node.outputTensors.forEach((t, i) => values.set(t.id, outputs[i]!));
  }
  return fetches.map((t) => values.get(t.id)!);
}

/**
 * The cut between the frozen and the trainable part: the outputs of frozen layers (the input layer
 * included) that a trainable layer reads, found by walking back from the model's outputs. Sorted by
 * tensor id, so the order is the same on every build of the same graph.
 */
export function frozenFrontier(model: tf.LayersModel, isFrozen: (layer: Layer) => boolean): tf.SymbolicTensor[] {
  const frontier = new Map<number, tf.SymbolicTensor>();
  const seen = new Set<number>();
  const stack = [...model.outputs];
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    if (seen.has(tensor.id)) continue;
    seen.add(tensor.id);
    const layer = tensor.sourceLayer;
    if (isFrozen(layer) || layer.getClassName() === 'InputLayer') {
      frontier.set(tensor.id, tensor);
      continue;
    }
    stack.push(...layer.inboundNodes[tensor.nodeIndex]!.inputTensors);
  }
  return [...frontier.values()].sort((a, b) => a.id - b.id);
}
