/**
 * `model.summary()` text exactly as Keras 2 (tf.keras 2.9–2.12, keras/utils/layer_utils.py
 * `print_summary`) prints it for a functional model: a 3-column table when the graph is a plain chain,
 * else 4 columns with "Connected to"; long cells wrap onto continuation lines; a blank line between
 * layers; comma-grouped totals. Python's `str()` of shapes and lists is reproduced.
 */
import type * as tf from '@tensorflow/tfjs';
import { countParams } from './params.js';

type Layer = tf.layers.Layer;
/** tfjs-layers `Node`, the record of one call of a layer (public fields, not exported as a type). */
type LayerNode = Layer['inboundNodes'][number];
/** tfjs-layers `Container` fields the summary reads (public in tfjs-layers, absent from `LayersModel`'s type). */
interface GraphView {
  nodesByDepth: Record<string, LayerNode[]>;
}

const SEQUENTIAL = { lineLength: 65, positions: [0.45, 0.85, 1.0], header: ['Layer (type)', 'Output Shape', 'Param #'] };
const GRAPH = { lineLength: 98, positions: [0.33, 0.55, 0.67, 1.0], header: ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'] };
/** Keras wraps a cell after the first of these that fits, so tuples and lists break between items. */
const LINE_BREAKS = ['),', '},', '],', "',"];

/** The Keras 2 `model.summary()` text of `model`, lines joined with '\n' (trailing spaces kept, as Keras prints them). */
export function summary(model: tf.LayersModel): string {
  const nodes = Object.values((model as unknown as GraphView).nodesByDepth).flat();
  const layout = isSequentialLike(model, nodes) ? SEQUENTIAL : GRAPH;
  const positions = layout.positions.map((p) => Math.trunc(layout.lineLength * p));
  const relevant = new Set(nodes);
  const lines = [`Model: "${model.name}"`, '_'.repeat(layout.lineLength), ...formatRow(layout.header, positions), '='.repeat(layout.lineLength)];
  model.layers.forEach((layer, i) => {
    const fields = [`${layer.name} (${layer.getClassName()})`, outputShapeText(layer), String(layer.countParams())];
    if (layout === GRAPH) fields.push(pyList(connections(layer, relevant)));
    lines.push(...formatRow(fields, positions));
    if (i < model.layers.length - 1) lines.push(' '.repeat(layout.lineLength));
  });
  const counts = countParams(model);
  lines.push(
    '='.repeat(layout.lineLength),
    `Total params: ${grouped(counts.total)}`,
    `Trainable params: ${grouped(counts.trainable)}`,
    `Non-trainable params: ${grouped(counts.nonTrainable)}`,
    '_'.repeat(layout.lineLength),
  );
  return lines.join('\n');
}

/** Keras: a chain (one node per depth, each with one input) where no layer is called twice. */
function isSequentialLike(model: tf.LayersModel, nodes: LayerNode[]): boolean {
  const byDepth = Object.values((model as unknown as GraphView).nodesByDepth);
  if (byDepth.some((v) => v.length > 1 || (v.length === 1 && v[0]!.inboundLayers.length > 1))) return false;
  const inGraph = new Set(nodes);
  return model.layers.every((layer) => layer.inboundNodes.filter((n) => inGraph.has(n)).length <= 1);
}

/** Keras `print_row`: each cell cut to its column (2 spaces gap), wrapped at LINE_BREAKS, continued on next lines. */
function formatRow(fields: string[], positions: number[]): string[] {
  const left = [...fields];
  const out: string[] = [];
  while (left.some((f) => f.length > 0)) {
    let line = '';
    for (let col = 0; col < left.length; col++) {
      const start = col > 0 ? positions[col - 1]! : 0;
      const space = col !== positions.length - 1 ? 2 : 0;
      let cutoff = positions[col]! - start - space;
      let fit = left[col]!.slice(0, cutoff);
      const breaks = LINE_BREAKS.filter((b) => fit.includes(b)).map((b) => fit.indexOf(b) + b.length);
      if (breaks.length > 0) {
        cutoff = Math.min(...breaks);
        fit = fit.slice(0, cutoff);
      }
      if (col === 0) line += ' ';
      line += fit + ' '.repeat(space);
      left[col] = left[col]!.slice(cutoff);
      line += ' '.repeat(Math.max(0, positions[col]! - line.length));
    }
    out.push(line);
  }
  return out;
}

/** Python `str()` of Keras' `layer.output_shape`: a tuple, or a list of one tuple for an InputLayer. */
function outputShapeText(layer: Layer): string {
  let shape: tf.Shape | tf.Shape[];
  try {
    shape = layer.outputShape;
  } catch {
    return 'multiple';
  }
  const text = pyTuple(Array.isArray(shape[0]) ? (shape[0] as tf.Shape) : (shape as tf.Shape));
  return layer.getClassName() === 'InputLayer' ? `[${text}]` : text;
}

function connections(layer: Layer, relevant: Set<LayerNode>): string[] {
  return layer.inboundNodes
    .filter((node) => relevant.has(node))
    .flatMap((node) => node.inboundLayers.map((inbound, i) => `${inbound.name}[${node.nodeIndices[i]}][${node.tensorIndices[i]}]`));
}

function pyTuple(shape: readonly (number | null)[]): string {
  const dims = shape.map((d) => (d === null ? 'None' : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

function pyList(items: string[]): string {
  return `[${items.map((s) => `'${s}'`).join(', ')}]`;
}

/** Python's `'{:,}'.format(n)`. */
function grouped(n: number): string {
  return n.toLocaleString('en-US');
}
