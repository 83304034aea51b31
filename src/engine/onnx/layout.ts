import { attr, type GraphBuilder } from './graph-builder.js';

/**
 * Where a 4-D value's channels are. The TF.js graph is NHWC throughout; ONNX Runtime's convolutions are
 * NCHW, so conv stacks run NCHW and values are transposed only where a layer needs the TF.js order
 * (Flatten, Reshape, Dense, graph outputs). 'plain' is any rank other than 4, where layout does not apply.
 */
export type Layout = 'NHWC' | 'NCHW' | 'plain';

/** Keras shape: always in TF.js (NHWC) order, batch first and null. */
export type KerasShape = ReadonlyArray<number | null>;

/** One TF.js symbolic tensor as it exists in the ONNX graph. */
export interface Value {
  name: string;
  layout: Layout;
  /** The TF.js (NHWC) shape, whatever the layout of the ONNX value. */
  shape: KerasShape;
}

/** What a layer converter returns: the shape is filled in from the TF.js graph. */
export type Emitted = Pick<Value, 'name' | 'layout'>;

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** The axis of a 4-D value in `layout` that holds Keras (NHWC) axis `kerasAxis` (negative allowed). */
export function layoutAxis(kerasAxis: number, rank: number, layout: Layout): number {
  const axis = kerasAxis < 0 ? kerasAxis + rank : kerasAxis;
  return layout === 'NCHW' ? TO_NCHW.indexOf(axis) : axis;
}

/**
 * The builder plus layout conversions, memoised so that a value read in both layouts
 * (e.g. a ResNet block output feeding a conv and an Add) is transposed once.
 */
export class EmitContext {
  private readonly transposed = new Map<string, string>();

  constructor(readonly builder: GraphBuilder) {}

  /** The value in `layout` (a no-op for 'plain' values, a 'plain' target and values already there). */
  as(value: Value, layout: Layout): string {
    if (value.layout === 'plain' || layout === 'plain' || value.layout === layout) return value.name;
    const key = `${value.name}\u0000${layout}`;
    let name = this.transposed.get(key);
    if (name === undefined) {
      const perm = layout === 'NCHW' ? TO_NCHW : TO_NHWC;
      name = this.builder.node('Transpose', [value.name], `${value.name}/to_${layout.toLowerCase()}`, { perm: attr.ints(perm) });
      this.transposed.set(key, name);
    }
    return name;
  }

  nchw(value: Value): string {
    return this.as(value, 'NCHW');
  }

  /** The value in TF.js element order (NHWC for 4-D), for layers that depend on it. */
  nhwc(value: Value): string {
    return this.as(value, 'NHWC');
  }

  /**
   * The common layout for element-wise ops on `values`: NCHW when every input is 4-D and one already is
   * (inside a conv stack), NHWC for other 4-D inputs or mixed ranks, 'plain' when none is 4-D.
   */
  commonLayout(values: readonly Value[]): Layout {
    if (values.some((v) => v.shape.length !== 4)) return values.every((v) => v.shape.length !== 4) ? 'plain' : 'NHWC';
    return values.some((v) => v.layout === 'NCHW') ? 'NCHW' : 'NHWC';
  }
}
