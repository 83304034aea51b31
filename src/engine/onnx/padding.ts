import { attr, type Attribute } from './graph-builder.js';

/**
 * TF 'same' padding for one spatial axis: the output is ceil(in / stride) and the total padding is split
 * with the extra pixel at the end (bottom/right), unlike a symmetric ONNX pad. Returns [before, after].
 */
export function samePadding(inSize: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const effectiveKernel = (kernel - 1) * dilation + 1;
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + effectiveKernel - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * The Conv/Pool attributes for a TF padding mode: 'valid' needs none; 'same' gets explicit
 * `pads` ([top, left, bottom, right]) from the static input size, or SAME_UPPER (the same
 * rule, extra padding at the end) when the size is only known at run time.
 */
export function paddingAttributes(
  padding: string,
  inputHW: readonly [number | null, number | null],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[] = [1, 1],
): Record<string, Attribute> {
  if (padding !== 'same') return {};
  const [h, w] = inputHW;
  if (h === null || w === null) return { auto_pad: attr.string('SAME_UPPER') };
  const [top, bottom] = samePadding(h, kernel[0], strides[0], dilations[0]);
  const [left, right] = samePadding(w, kernel[1], strides[1], dilations[1]);
  return { pads: attr.ints([top, left, bottom, right]) };
}
