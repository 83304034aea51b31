import * as tf from '@tensorflow/tfjs';
import type { KerasShape } from './layout.js';

/** One call of a layer in the TF.js graph (a layer shared by several calls has one node per call). */
export interface LayerCall {
  inputShapes: KerasShape[];
  outputShapes: KerasShape[];
}

export type LayerApply<V> = (layer: tf.layers.Layer, inputs: V[], call: LayerCall) => V[];

const isContainer = (layer: tf.layers.Layer): layer is tf.LayersModel => layer instanceof tf.LayersModel;

/**
 * Evaluates a TF.js functional graph (Sequential included) on abstract values, layer calls in
 * dependency order, starting from `inputs` (one per `container.inputs`). A nested model is
 * inlined: its own graph is walked with the values its node receives. Iterative, so that deep
 * graphs (DenseNet, Inception: hundreds of layers) do not grow the call stack.
 */
export function walkGraph<V>(container: tf.LayersModel, inputs: readonly V[], apply: LayerApply<V>): V[] {
  const values = new Map<number, V>();
  container.inputs.forEach((t, i) => values.set(t.id, inputs[i]));
  const stack: tf.SymbolicTensor[] = [...container.outputs];
  while (stack.length > 0) {
    const tensor = stack[stack.length - 1];
    if (values.has(tensor.id)) {
      stack.pop();
      continue;
    }
    const layer = tensor.sourceLayer as tf.layers.Layer;
    const node = layer.inboundNodes[tensor.nodeIndex];
    const pending = node.inputTensors.filter((t) => !values.has(t.id));
    if (pending.length > 0) {
      stack.push(...pending);
      continue;
    }
    stack.pop();
    if (node.inputTensors.length === 0) {
      throw new Error(`graph input '${tensor.name}' of '${container.name}' is not one of the model's inputs`);
    }
    const layerInputs = node.inputTensors.map((t) => values.get(t.id) as V);
    const outputs = isContainer(layer)
      ? walkGraph(layer, layerInputs, apply)
      : apply(layer, layerInputs, {
          inputShapes: node.inputTensors.map((t) => t.shape),
          outputShapes: node.outputTensors.map((t) => t.shape),
        });
    node.outputTensors.forEach((t, i) => values.set(t.id, outputs[i]));
  }
  return container.outputs.map((t) => values.get(t.id) as V);
}
