import { onnx, ONNX_FLOAT, type OnnxTypes } from '../proto.js';

/** TensorProto.DataType values the quantizer writes. */
export const ONNX_UINT8 = 2;
export const ONNX_INT8 = 3;
export const ONNX_INT32 = 6;

export type Node = OnnxTypes.INodeProto & { input: string[]; output: string[] };

/**
 * A decoded ModelProto, editable: its nodes in topological order (as the exporter writes them) and its float
 * initializers by name. Other initializers (int64 shapes, pads) pass through untouched.
 */
export class EditableGraph {
  readonly model: OnnxTypes.ModelProto;
  nodes: Node[];
  private readonly initializers = new Map<string, OnnxTypes.ITensorProto>();
  private readonly names = new Set<string>();

  constructor(bytes: Uint8Array) {
    this.model = onnx.ModelProto.decode(bytes);
    const graph = this.model.graph!;
    this.nodes = (graph.node ?? []).map((n) => ({ ...n, input: [...(n.input ?? [])], output: [...(n.output ?? [])] }));
    for (const t of graph.initializer ?? []) this.initializers.set(t.name!, t);
    for (const n of this.nodes) for (const v of [...n.input, ...n.output]) this.names.add(v);
    for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) this.names.add(v.name!);
    for (const name of this.initializers.keys()) this.names.add(name);
  }

  get inputNames(): string[] {
    return (this.model.graph!.input ?? []).map((v) => v.name!).filter((n) => !this.initializers.has(n));
  }

  get outputNames(): string[] {
    return (this.model.graph!.output ?? []).map((v) => v.name!);
  }

  isInitializer(name: string): boolean {
    return this.initializers.has(name);
  }

  /** A float initializer's values (a copy) and dims, or undefined when `name` is not one. */
  floats(name: string): { data: Float32Array; dims: number[] } | undefined {
    const t = this.initializers.get(name);
    if (!t || t.dataType !== ONNX_FLOAT) return undefined;
    const dims = (t.dims ?? []).map(Number);
    if (t.rawData && t.rawData.length > 0) {
      const raw = t.rawData;
      return { data: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), dims };
    }
    return { data: Float32Array.from(t.floatData ?? []), dims };
  }

  /** A name no value in the graph has yet: `base`, else `base_1`, `base_2`… */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds (or replaces) an initializer; `data` is stored little-endian as raw_data. */
  setInitializer(name: string, dataType: number, dims: readonly number[], data: Float32Array | Int8Array | Uint8Array | Int32Array): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.set(name, { name, dataType, dims: [...dims], rawData: bytes });
    this.names.add(name);
  }

  deleteInitializer(name: string): void {
    this.initializers.delete(name);
  }

  /** Every node reading `value`. */
  consumers(value: string): Node[] {
    return this.nodes.filter((n) => n.input.includes(value));
  }

  producer(value: string): Node | undefined {
    return this.nodes.find((n) => n.output.includes(value));
  }

  /** Serialises the graph; initializers nothing reads any more are dropped. `outputs` replaces the graph outputs. */
  encode(extraOutputs: readonly string[] = []): Uint8Array {
    const graph = this.model.graph!;
    const used = new Set(this.nodes.flatMap((n) => n.input));
    const outputs = [
      ...(graph.output ?? []),
      ...extraOutputs.filter((o) => !this.outputNames.includes(o)).map((name) => ({ name, type: { tensorType: { elemType: ONNX_FLOAT } } })),
    ];
    const proto: OnnxTypes.IModelProto = {
      ...this.model,
      graph: {
        ...graph,
        node: this.nodes,
        initializer: [...this.initializers.values()].filter((t) => used.has(t.name!)),
        output: outputs,
        valueInfo: [],
      },
    };
    return onnx.ModelProto.encode(proto).finish();
  }
}

/** A node's float attribute, int attribute or ints attribute by name. */
export function attribute(node: Node, name: string): OnnxTypes.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
