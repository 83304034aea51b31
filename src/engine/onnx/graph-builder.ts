import { endianness } from 'node:os';
import { onnx, ONNX_FLOAT, ONNX_INT64, type OnnxTypes } from './proto.js';

/** A node attribute with its ONNX type made explicit (1.0 must stay a FLOAT, 1 an INT). */
export type Attribute =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): Attribute => ({ kind: 'int', value }),
  ints: (value: readonly number[]): Attribute => ({ kind: 'ints', value }),
  float: (value: number): Attribute => ({ kind: 'float', value }),
  string: (value: string): Attribute => ({ kind: 'string', value }),
};

/** A graph input or output: its dims are numbers, or names for dynamic ones (the batch is 'N'). */
export interface GraphIO {
  name: string;
  dims: ReadonlyArray<number | string>;
  /** TensorProto.DataType of the value. @default ONNX_FLOAT */
  elemType?: number;
}

const LITTLE_ENDIAN = endianness() === 'LE';

function toAttributeProto(name: string, a: Attribute): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

/**
 * ONNX raw_data is little-endian whatever the host: the array's own bytes on little-endian hosts
 * (no copy: initializers are hundreds of MB for VGG), a byte-swapped copy elsewhere.
 */
function rawBytes(view: Float32Array | BigInt64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const bytes = new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
  const width = view.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  return bytes;
}

function valueInfo({ name, dims, elemType }: GraphIO): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elemType ?? ONNX_FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Accumulates the nodes and initializers of one ONNX graph, handing out unique value names
 * (Keras layer names are unique, but one layer emits several ONNX values).
 */
export class GraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly used = new Set<string>();

  /** Claims `base` as a value name, or `base_1`, `base_2`… when it is taken. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output named after `outputBase`; returns the output's name. */
  node(opType: string, inputs: readonly string[], outputBase: string, attributes: Record<string, Attribute> = {}): string {
    return this.nodeNamed(opType, inputs, this.unique(outputBase), attributes);
  }

  /** Adds a node whose output name was claimed beforehand with `unique` (graph outputs). */
  nodeNamed(opType: string, inputs: readonly string[], output: string, attributes: Record<string, Attribute> = {}): string {
    this.nodes.push({
      opType,
      name: output,
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attributes).map(([name, a]) => toAttributeProto(name, a)),
    });
    return output;
  }

  /** Adds a float32 initializer (raw_data); returns its name. */
  floats(base: string, data: Float32Array, dims: readonly number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`initializer ${base}: ${data.length} values for dims [${dims.join(', ')}]`);
    const name = this.unique(base);
    this.initializers.push({ name, dataType: ONNX_FLOAT, dims: [...dims], rawData: rawBytes(data) });
    return name;
  }

  /** Adds a 1-D int64 initializer (shapes, pads); returns its name. */
  int64s(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name, dataType: ONNX_INT64, dims: [values.length], rawData: rawBytes(data) });
    return name;
  }

  /** Adds a float32 scalar initializer (Clip bounds); returns its name. */
  scalar(base: string, value: number): string {
    return this.floats(base, Float32Array.of(value), []);
  }

  /** Serialises the graph as a ModelProto. */
  encode(model: {
    graphName: string;
    inputs: readonly GraphIO[];
    outputs: readonly GraphIO[];
    opset: number;
    irVersion: number;
    producerName: string;
    producerVersion: string;
    docString?: string;
  }): Uint8Array {
    const proto: OnnxTypes.IModelProto = {
      irVersion: model.irVersion,
      opsetImport: [{ domain: '', version: model.opset }],
      producerName: model.producerName,
      producerVersion: model.producerVersion,
      docString: model.docString,
      graph: {
        name: model.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: model.inputs.map(valueInfo),
        output: model.outputs.map(valueInfo),
      },
    };
    return onnx.ModelProto.encode(proto).finish();
  }
}
