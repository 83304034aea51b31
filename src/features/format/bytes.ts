import { float16BitsToFloat32, float32ToFloat16Bits } from './float16.js';

/** Element kinds the tensor files carry: IEEE binary16, binary32 and (read only) binary64. */
export type FloatKind = 'f2' | 'f4' | 'f8';

export const FLOAT_BYTES: Record<FloatKind, number> = { f2: 2, f4: 4, f8: 8 };

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of `values` stored as float32 ('f4') or float16 ('f2'). */
export function floatBytesLE(values: Float32Array, kind: 'f2' | 'f4'): Uint8Array {
  if (kind === 'f4' && HOST_LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * FLOAT_BYTES[kind]);
  const view = new DataView(bytes.buffer);
  if (kind === 'f4') values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else values.forEach((v, i) => view.setUint16(i * 2, float32ToFloat16Bits(v), true));
  return bytes;
}

/**
 * Reads `count` floats of `kind` at `offset` into a new Float32Array (float64 is rounded). Copies, so
 * the result never aliases the file buffer and needs no alignment from it.
 */
export function readFloats(bytes: Uint8Array, offset: number, count: number, kind: FloatKind, littleEndian = true): Float32Array {
  const end = offset + count * FLOAT_BYTES[kind];
  if (kind === 'f4' && littleEndian === HOST_LITTLE_ENDIAN) {
    // Copy into a fresh (aligned) buffer; Buffer#slice would return a view into the file's memory.
    const copy = new Uint8Array(end - offset);
    copy.set(bytes.subarray(offset, end));
    return new Float32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, end - offset);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] =
      kind === 'f2'
        ? float16BitsToFloat32(view.getUint16(i * 2, littleEndian))
        : kind === 'f4'
          ? view.getFloat32(i * 4, littleEndian)
          : view.getFloat64(i * 8, littleEndian);
  }
  return out;
}

/** Number of elements of a shape; [] is a scalar (1 element). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function isValidShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
}
