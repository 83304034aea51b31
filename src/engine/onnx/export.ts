import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, listValues } from '../../errors.js';
import { LIBRARY_VERSION } from '../../version.js';
import { CONVERTERS, SUPPORTED_LAYERS } from './converters/index.js';
import { UnsupportedLayerError, type UnsupportedLayer } from './errors.js';
import { attr, GraphBuilder, type GraphIO } from './graph-builder.js';
import { ONNX_FLOAT, ONNX_UINT8 } from './proto.js';
import { walkGraph } from './graph-walk.js';
import { EmitContext, type KerasShape, type Value } from './layout.js';

export interface ExportOptions {
  /** ONNX operator set. @default 17 */
  opset?: number;
  /** ModelProto.producer_name. @default 'headstart' */
  producer?: string;
  /**
   * The graph inputs' element type: 'uint8' declares them uint8 and casts them to float32 in front of the
   * model (an image bundle takes pixels as they are decoded). @default 'float32'
   */
  inputType?: 'float32' | 'uint8';
  /** The graph inputs' names, in order. @default the TF.js input tensors' names (unique per process: 'input_1', 'input_2'…) */
  inputNames?: readonly string[];
  /** The graph outputs' names, in order. @default the names of the layers that give them */
  outputNames?: readonly string[];
}

/** Bumped whenever the exporter's output changes, so that cached exports are redone. */
export const EXPORTER_VERSION = 1;

/** Opsets whose operator semantics the exporter relies on (Clip/Softmax/Pad as in opset 13+). */
export const SUPPORTED_OPSETS = [13, 14, 15, 16, 17, 18, 19, 20, 21] as const;

/** The IR version released with each opset (ONNX versioning table): the oldest that runtimes accept for it. */
function irVersionFor(opset: number): number {
  if (opset <= 18) return 8;
  return opset <= 20 ? 9 : 10;
}

/**
 * Serialises a TF.js layers model (functional or Sequential, nested models inlined) as an ONNX
 * ModelProto. Inputs and outputs keep the TF.js layout (NHWC images) with a dynamic batch 'N';
 * convolution stacks run NCHW inside. Reads the weights, creates no tensors.
 * @throws UnsupportedLayerError listing every layer it cannot translate.
 */
export function exportToOnnx(model: tf.LayersModel, options: ExportOptions = {}): Uint8Array {
  const opset = options.opset ?? 17;
  if (!(SUPPORTED_OPSETS as readonly number[]).includes(opset)) {
    throw new InvalidArgumentError(`Unsupported ONNX opset ${opset}: expected ${listValues(SUPPORTED_OPSETS)}.`);
  }
  const unsupported = findUnsupportedLayers(model);
  if (unsupported.length > 0) throw new UnsupportedLayerError(unsupported, SUPPORTED_LAYERS);

  const builder = new GraphBuilder();
  const ctx = new EmitContext(builder);
  // Graph input/output names are claimed first so that they stay the Keras names.
  const uint8 = options.inputType === 'uint8';
  const inputs = model.inputs.map((t, i) => ({ ...graphIO(builder.unique(options.inputNames?.[i] ?? t.name), t.shape), ...(uint8 ? { elemType: ONNX_UINT8 } : {}) }));
  const outputs = model.outputs.map((t, i) => graphIO(builder.unique(options.outputNames?.[i] ?? t.sourceLayer.name), t.shape));

  const inputValues: Value[] = model.inputs.map((t, i) => ({
    name: uint8 ? builder.node('Cast', [inputs[i].name], `${inputs[i].name}/float`, { to: attr.int(ONNX_FLOAT) }) : inputs[i].name,
    layout: layoutOf(t.shape, 'NHWC'),
    shape: t.shape,
  }));
  const results = walkGraph<Value>(model, inputValues, (layer, values, call) => {
    const emitted = CONVERTERS[layer.getClassName()].emit(ctx, layer, values, call.outputShapes);
    return emitted.map((e, i) => ({ ...e, shape: call.outputShapes[i], layout: layoutOf(call.outputShapes[i], e.layout) }));
  });
  results.forEach((value, i) => {
    builder.nodeNamed('Identity', [ctx.nhwc(value)], outputs[i].name);
  });

  return builder.encode({
    graphName: model.name,
    inputs,
    outputs,
    opset,
    irVersion: irVersionFor(opset),
    producerName: options.producer ?? 'headstart',
    producerVersion: LIBRARY_VERSION,
    docString: `Exported from the TF.js layers model '${model.name}' (exporter v${EXPORTER_VERSION}).`,
  });
}

/** Every layer call the exporter cannot translate, each layer named once. */
export function findUnsupportedLayers(model: tf.LayersModel): UnsupportedLayer[] {
  const found = new Map<string, UnsupportedLayer>();
  for (const input of model.inputs) {
    if (input.dtype !== 'float32') {
      found.set(input.name, { className: 'InputLayer', name: input.sourceLayer.name, reason: `dtype '${input.dtype}'` });
    }
  }
  walkGraph<null>(model, model.inputs.map(() => null), (layer, _values, call) => {
    const className = layer.getClassName();
    const converter = CONVERTERS[className];
    const reason = converter ? converter.check?.(layer, call.inputShapes) : undefined;
    if (!converter || reason !== undefined) found.set(layer.name, { className, name: layer.name, ...(reason ? { reason } : {}) });
    return call.outputShapes.map(() => null);
  });
  return [...found.values()];
}

/** Rank-4 values have a layout; every other rank is 'plain'. */
function layoutOf(shape: KerasShape, layout: Value['layout']): Value['layout'] {
  if (shape.length !== 4) return 'plain';
  return layout === 'plain' ? 'NHWC' : layout;
}

/** Batch is the dynamic 'N'; other unknown dims get their own names (a model built for any image size). */
function graphIO(name: string, shape: KerasShape): GraphIO {
  return { name, dims: shape.map((d, i) => (i === 0 ? 'N' : (d ?? `${name}_dim${i}`))) };
}
