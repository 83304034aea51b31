import { WeightsFormatError } from './errors.js';

/** How one weight is stored in a TF.js shard (the manifest entry, as far as decoding needs it). */
export interface StoredWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes the weight occupies in its shard group. */
export function storedByteLength(spec: StoredWeightSpec, size: number): number {
  const stored = spec.quantization?.dtype ?? spec.dtype;
  const bytes = BYTES_PER_VALUE[stored];
  if (bytes === undefined) {
    throw new WeightsFormatError(`Weight '${spec.name}' has dtype '${stored}', which headstart cannot read: expected float32, int32, bool, or quantization uint8, uint16 or float16.`);
  }
  return size * bytes;
}

/** IEEE 754 half precision to a JS number (subnormals, infinities and NaN included). */
export function float16ToNumber(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Decodes one weight's bytes to float32, dequantising like tf.io.decodeWeights
 * (uint8/uint16: value·scale + min; float16: widened). `bytes` is copied, never aliased.
 */
export function decodeWeightBytes(bytes: Uint8Array, spec: StoredWeightSpec, size: number): Float32Array {
  const q = spec.quantization;
  if (q === undefined && spec.dtype === 'float32') return copyFloat32(bytes, size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = valueReader(bytes, view, spec);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = read(i);
  return out;
}

/**
 * One copy into a fresh, aligned buffer: shard offsets need not be multiples of 4, and `bytes` may be a
 * Buffer view whose `slice` does not copy. TF.js shards are little-endian, as is every platform Node runs on.
 */
function copyFloat32(bytes: Uint8Array, size: number): Float32Array {
  const copy = new Uint8Array(size * 4);
  copy.set(bytes.subarray(0, size * 4));
  return new Float32Array(copy.buffer);
}

function valueReader(bytes: Uint8Array, view: DataView, spec: StoredWeightSpec): (i: number) => number {
  const q = spec.quantization;
  if (q === undefined) return spec.dtype === 'int32' ? (i) => view.getInt32(i * 4, true) : (i) => bytes[i]!;
  if (q.dtype === 'float16') return (i) => float16ToNumber(view.getUint16(i * 2, true));
  if (q.scale === undefined || q.min === undefined) {
    throw new WeightsFormatError(`Weight '${spec.name}' is quantized to ${q.dtype} but its manifest entry has no scale and min.`);
  }
  const { scale, min } = q;
  return q.dtype === 'uint8' ? (i) => bytes[i]! * scale + min : (i) => view.getUint16(i * 2, true) * scale + min;
}
