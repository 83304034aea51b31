/**
 * Convolution gradients written with ordinary ops, for backends that lack the backprop kernels.
 *
 * Why: the wasm backend (the default here) registers Conv2DBackpropInput but neither
 * Conv2DBackpropFilter nor the DepthwiseConv2dNative backprop kernels, so `tf.grad` through any
 * TF.js Conv2D / DepthwiseConv2D layer throws "Kernel … not registered for backend 'wasm'".
 * The layers' forward kernels are fast there; only the weight (and depthwise input) gradients are
 * missing. Each is a sum over the kh × kw filter taps of a strided window of the padded input: one
 * plain matMul (Conv2D) or one multiply-and-reduce (depthwise) per tap, which wasm runs well.
 * Every function here returns a new tensor the caller owns; intermediates are tidied.
 */
import { tf } from '../engine/backend.js';

export type ConvPadding = 'same' | 'valid';

export interface ConvGeometry {
  strides: [number, number];
  pad: ConvPadding;
  /** @default [1, 1] */
  dilations?: [number, number];
}

type Shape4 = [number, number, number, number];
type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

function convInfo(xShape: Shape4, filterShape: Shape4, g: ConvGeometry, depthwise: boolean): ConvInfo {
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, g.strides, g.dilations ?? [1, 1], g.pad, undefined, depthwise);
}

/** The input padded as the forward convolution pads it ('same': TF's split, extra row/column at the end). */
function padded(x: tf.Tensor4D, info: ConvInfo): tf.Tensor4D {
  const { top, bottom, left, right } = info.padInfo;
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  return tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
}

type TapWindow = (i: number, j: number) => tf.Tensor4D;

/** Every `stride`-th row and column of xp starting at (p, q), by reshapes and rank-4 slices only. */
function phase(xp: tf.Tensor4D, sh: number, sw: number, p: number, q: number): tf.Tensor4D {
  const [b, h, w, c] = xp.shape;
  const rows = tf.reshape(tf.slice(tf.reshape(xp, [b, h / sh, sh, w * c]), [0, 0, p, 0], [b, h / sh, 1, w * c]), [b * (h / sh), w / sw, sw, c]);
  return tf.reshape(tf.slice(rows, [0, 0, q, 0], [b * (h / sh), w / sw, 1, c]), [b, h / sh, w / sw, c]);
}

/**
 * What filter tap (i, j) multiplies at every output position: [batch, outHeight, outWidth, channels].
 * Strided windows are cut from the stride phases of the input (split once, then plain slices): wasm's
 * strided slice is ~10× slower than a plain one, and rank > 4 slices slower still.
 */
function tapWindows(xp: tf.Tensor4D, info: ConvInfo): TapWindow {
  const { outHeight, outWidth, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const [batch, height, width, channels] = xp.shape;
  if (sh === 1 && sw === 1) return (i, j) => tf.slice(xp, [0, i * dh, j * dw, 0], [batch, outHeight, outWidth, channels]);
  // Pad to whole strides so the phases are reshapes; the padding is never read by a tap.
  const even = tf.pad(xp, [[0, 0], [0, (sh - (height % sh)) % sh], [0, (sw - (width % sw)) % sw], [0, 0]]);
  const phases = new Map<string, tf.Tensor4D>();
  return (i, j) => {
    const [r, c] = [i * dh, j * dw];
    const key = `${r % sh},${c % sw}`;
    if (!phases.has(key)) phases.set(key, phase(even, sh, sw, r % sh, c % sw));
    return tf.slice(phases.get(key)!, [0, Math.floor(r / sh), Math.floor(c / sw), 0], [batch, outHeight, outWidth, channels]);
  };
}

/**
 * dL/dW of `conv2d(x, W)` (NHWC, W [kh, kw, in, out]) given dy: for each tap, windowᵀ · dy over all
 * batch × output positions. The transpose is explicit: wasm's matMul with transposeA is far slower.
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: Shape4, geometry: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, geometry, false);
    const [kh, kw, inChannels, outChannels] = filterShape;
    const rows = x.shape[0] * info.outHeight * info.outWidth;
    const dyRows = tf.reshape(dy, [rows, outChannels]);
    const window = tapWindows(padded(x, info), info);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const patch = tf.reshape(window(i, j), [rows, inChannels]);
        taps.push(tf.matMul(tf.transpose(patch), dyRows));
      }
    }
    return tf.reshape(taps.length === 1 ? taps[0]! : tf.stack(taps), filterShape) as tf.Tensor4D;
  });
}

/**
 * dL/dx of `conv2d(x, W)` as a forward convolution, which wasm runs through XNNPACK (its own
 * Conv2DBackpropInput is a plain loop, ~10× slower): dy spread by the stride, padded by kh − 1 before
 * and by what the padded input has left after, correlated with W flipped in space and in/out swapped;
 * then the forward padding is cut off.
 */
export function conv2dInputGrad(xShape: Shape4, dy: tf.Tensor4D, filter: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(xShape, filter.shape, geometry, false);
    const [batch, height, width, channels] = xShape;
    const [kh, kw] = filter.shape;
    const { top, bottom, left, right } = info.padInfo;
    const spread = dilateWithZeros(dy, info.strideHeight, info.strideWidth);
    const full = tf.pad(spread, [
      [0, 0],
      [kh - 1, height + top + bottom - spread.shape[1]],
      [kw - 1, width + left + right - spread.shape[2]],
      [0, 0],
    ]);
    const flipped = tf.transpose(kh === 1 && kw === 1 ? filter : tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const dxPadded = tf.conv2d(full, flipped, 1, 'valid');
    if (top === 0 && bottom === 0 && left === 0 && right === 0) return dxPadded;
    return tf.slice(dxPadded, [0, top, left, 0], [batch, height, width, channels]);
  });
}

/** dy as [batch, h, w, channels, multiplier] (depthwise outputs are channel-major: c · M + m). */
function perMultiplier(dy: tf.Tensor4D, multiplier: number): tf.Tensor {
  const [b, h, w, c] = dy.shape;
  return multiplier === 1 ? dy : tf.reshape(dy, [b, h, w, c / multiplier, multiplier]);
}

/** dL/dW of `depthwiseConv2d(x, W)` (W [kh, kw, channels, multiplier]): per tap, Σ window × dy over batch and positions. */
export function depthwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: Shape4, geometry: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, geometry, true);
    const [kh, kw, , multiplier] = filterShape;
    const dyM = perMultiplier(dy, multiplier);
    const window = tapWindows(padded(x, info), info);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const patch = window(i, j);
        taps.push(multiplier === 1 ? tf.sum(tf.mul(patch, dyM), [0, 1, 2]) : tf.sum(tf.mul(tf.expandDims(patch, 4), dyM), [0, 1, 2]));
      }
    }
    return tf.reshape(tf.stack(taps), filterShape);
  });
}

/** Spreads [b, h, w, c] onto a grid with stride − 1 zeros between values: [b, (h−1)·sh+1, (w−1)·sw+1, c]. */
function dilateWithZeros(g: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return g;
  const [b, h, w, c] = g.shape;
  // Rows, then columns, with rank-4 pads only (wasm is slow above rank 4).
  const rows = tf.pad(tf.reshape(g, [b, h, 1, w * c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]);
  const columns = tf.pad(tf.reshape(rows, [b * h * sh, w, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.slice(tf.reshape(columns, [b, h * sh, w * sw, c]) as tf.Tensor4D, [0, 0, 0, 0], [b, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * dL/dx of `depthwiseConv2d(x, W)`: each tap sends dy × W[i, j] back to the input pixels it read,
 * i.e. dy spread by the stride and shifted by the tap, summed over taps, then the padding cut off.
 */
export function depthwiseInputGrad(xShape: Shape4, dy: tf.Tensor4D, filter: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(xShape, filter.shape, geometry, true);
    const [batch, height, width, channels] = xShape;
    const [kh, kw, , multiplier] = filter.shape;
    const { top, bottom, left, right } = info.padInfo;
    const paddedHeight = height + top + bottom;
    const paddedWidth = width + left + right;
    const dyM = perMultiplier(dy, multiplier);
    const parts: tf.Tensor4D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const tap = tf.reshape(tf.slice(filter, [i, j, 0, 0], [1, 1, channels, multiplier]), multiplier === 1 ? [channels] : [channels, multiplier]);
        const g = (multiplier === 1 ? tf.mul(dyM, tap) : tf.sum(tf.mul(dyM, tap), 4)) as tf.Tensor4D;
        const spread = dilateWithZeros(g, info.strideHeight, info.strideWidth);
        const rowOffset = i * info.dilationHeight;
        const columnOffset = j * info.dilationWidth;
        parts.push(
          tf.pad(spread, [
            [0, 0],
            [rowOffset, paddedHeight - rowOffset - spread.shape[1]],
            [columnOffset, paddedWidth - columnOffset - spread.shape[2]],
            [0, 0],
          ]),
        );
      }
    }
    const sum = parts.length === 1 ? parts[0]! : (tf.addN(parts) as tf.Tensor4D);
    return tf.slice(sum, [0, top, left, 0], [batch, height, width, channels]);
  });
}

function assertNoDilation(geometry: ConvGeometry, what: string): void {
  const [dh, dw] = geometry.dilations ?? [1, 1];
  if (dh !== 1 || dw !== 1) throw new Error(`${what}: training dilated convolutions (dilation ${dh}×${dw}) is not supported on this backend.`);
}

type Forward = (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D;
type Backward = (x: tf.Tensor4D, kernel: tf.Tensor4D, dy: tf.Tensor4D) => [dx: tf.Tensor4D, dKernel: tf.Tensor4D];

/** A two-input op (image, kernel) with its forward kernel as is and the given gradients. */
function withGradients(forward: Forward, backward: Backward): Forward {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, kernel, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([x, kernel]);
    return {
      value: forward(x, kernel),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => backward(saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, dy),
    };
  });
  return (x, kernel) => op(x, kernel);
}

/**
 * `conv2d(x, W)` whose gradients are computed with the functions above (dx by conv2dInputGrad, dW by
 * conv2dFilterGrad); the forward kernel as is. Returns a new tensor.
 */
export function conv2dTrainable(x: tf.Tensor4D, kernel: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  assertNoDilation(geometry, 'Conv2D');
  const op = withGradients(
    (xIn, k) => tf.conv2d(xIn, k, geometry.strides, geometry.pad),
    (xs, ks, dy) => [conv2dInputGrad(xs.shape, dy, ks, geometry), conv2dFilterGrad(xs, dy, ks.shape, geometry)],
  );
  return op(x, kernel);
}

/** `depthwiseConv2d(x, W)` with both gradients from the functions above. Returns a new tensor. */
export function depthwiseConv2dTrainable(x: tf.Tensor4D, kernel: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  assertNoDilation(geometry, 'DepthwiseConv2D');
  const op = withGradients(
    (xIn, k) => tf.depthwiseConv2d(xIn, k, geometry.strides, geometry.pad),
    (xs, ks, dy) => [depthwiseInputGrad(xs.shape, dy, ks, geometry), depthwiseFilterGrad(xs, dy, ks.shape, geometry)],
  );
  return op(x, kernel);
}

/** Whether the active backend has native weight-gradient kernels for `className` ('Conv2D' or 'DepthwiseConv2D'). */
export function hasNativeConvGradients(className: string): boolean {
  const backend = tf.getBackend();
  const kernels = className === 'Conv2D' ? ['Conv2DBackpropFilter'] : ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'];
  return kernels.every((name) => tf.getKernel(name, backend) !== undefined);
}
