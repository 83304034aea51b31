import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import {
  conv2dFilterGrad,
  conv2dInputGrad,
  conv2dTrainable,
  depthwiseConv2dTrainable,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  type ConvGeometry,
} from '../../../src/finetune/conv-grad.js';
import { mulberry32 } from '../../../src/heads/random.js';
import { expectNoLeak } from '../../helpers/tf.js';

type Shape4 = [number, number, number, number];

/** Reference gradients by the definition, in plain loops over the padded input. */
function reference(x: Float32Array, xShape: Shape4, w: Float32Array, wShape: Shape4, dy: Float32Array, g: ConvGeometry, depthwise: boolean) {
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, g.strides, 1, g.pad, undefined, depthwise);
  const [B, H, W, C] = xShape;
  const [kh, kw, , M] = wShape;
  const outC = depthwise ? C * M : wShape[3];
  const { top, left } = info.padInfo;
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  const xAt = (b: number, h: number, ww: number, c: number) => ((b * H + h) * W + ww) * C + c;
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < info.outHeight; oh++)
      for (let ow = 0; ow < info.outWidth; ow++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const h = oh * info.strideHeight + i - top;
            const ww = ow * info.strideWidth + j - left;
            if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
            for (let o = 0; o < outC; o++) {
              const d = dy[((b * info.outHeight + oh) * info.outWidth + ow) * outC + o]!;
              const c = depthwise ? Math.floor(o / M) : -1;
              const inputs = depthwise ? [c] : Array.from({ length: C }, (_, k) => k);
              for (const ci of inputs) {
                const wIndex = depthwise ? ((i * kw + j) * C + ci) * M + (o % M) : ((i * kw + j) * C + ci) * outC + o;
                dw[wIndex] += x[xAt(b, h, ww, ci)]! * d;
                dx[xAt(b, h, ww, ci)] += w[wIndex]! * d;
              }
            }
          }
  return { dx, dw, outShape: [B, info.outHeight, info.outWidth, outC] as Shape4 };
}

function randomArray(n: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length: n }, () => random() * 2 - 1);
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function expectClose(actual: Float32Array | Int32Array | Uint8Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(1e-4);
}

const CASES: { name: string; x: Shape4; k: number; g: ConvGeometry }[] = [
  { name: '1×1 stride 1', x: [2, 5, 5, 3], k: 1, g: { strides: [1, 1], pad: 'valid' } },
  { name: '3×3 same stride 1', x: [2, 5, 6, 3], k: 3, g: { strides: [1, 1], pad: 'same' } },
  { name: '3×3 same stride 2 (odd size)', x: [1, 7, 7, 2], k: 3, g: { strides: [2, 2], pad: 'same' } },
  { name: '3×3 valid stride 2 (even size)', x: [2, 8, 6, 2], k: 3, g: { strides: [2, 2], pad: 'valid' } },
  { name: '2×2 same stride 1 (uneven padding)', x: [1, 4, 5, 2], k: 2, g: { strides: [1, 1], pad: 'same' } },
];

beforeAll(async () => {
  await initBackend();
});

describe('conv2d gradients', () => {
  for (const { name, x: xShape, k, g } of CASES) {
    it(`dW and dx match the definition: ${name}`, () => {
      const wShape: Shape4 = [k, k, xShape[3], 4];
      const xData = randomArray(size(xShape), 1);
      const wData = randomArray(size(wShape), 2);
      const ref0 = reference(xData, xShape, wData, wShape, new Float32Array(0), g, false);
      const dyData = randomArray(size(ref0.outShape), 3);
      const ref = reference(xData, xShape, wData, wShape, dyData, g, false);
      const [x, w, dy] = [tf.tensor4d(xData, xShape), tf.tensor4d(wData, wShape), tf.tensor4d(dyData, ref0.outShape)];
      const [dw, dx] = [conv2dFilterGrad(x, dy, wShape, g), conv2dInputGrad(xShape, dy, w, g)];
      expectClose(dw.dataSync(), ref.dw);
      expectClose(dx.dataSync(), ref.dx);
      // Through the custom-gradient op, as a training step differentiates a Conv2D layer.
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2dTrainable(a as tf.Tensor4D, b as tf.Tensor4D, g), dy)))([x, w]);
      expectClose(gx!.dataSync(), ref.dx);
      expectClose(gw!.dataSync(), ref.dw);
      tf.dispose([x, w, dy, dw, dx, gx!, gw!]);
    });
  }

  it('leaves no tensors behind and its forward is tf.conv2d', async () => {
    const x = tf.randomNormal([1, 6, 6, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 2]) as tf.Tensor4D;
    await expectNoLeak(() => {
      const [plain, custom] = [tf.conv2d(x, w, 2, 'same'), conv2dTrainable(x, w, { strides: [2, 2], pad: 'same' })];
      expectClose(custom.dataSync(), plain.dataSync() as Float32Array);
      tf.dispose([plain, custom]);
      tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(conv2dTrainable(a as tf.Tensor4D, b as tf.Tensor4D, { strides: [1, 1], pad: 'same' })))([x, w]));
    });
    tf.dispose([x, w]);
  });

  it('refuses dilated convolutions with a clear message', () => {
    const x = tf.zeros([1, 5, 5, 1]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 1, 1]) as tf.Tensor4D;
    expect(() => conv2dTrainable(x, w, { strides: [1, 1], pad: 'same', dilations: [2, 2] })).toThrow(/dilated convolutions \(dilation 2×2\)/);
    tf.dispose([x, w]);
  });
});

describe('depthwise conv2d gradients', () => {
  for (const multiplier of [1, 2]) {
    for (const { name, x: xShape, k, g } of CASES) {
      it(`dW and dx match the definition: ${name}, multiplier ${multiplier}`, () => {
        const wShape: Shape4 = [k, k, xShape[3], multiplier];
        const xData = randomArray(size(xShape), 4);
        const wData = randomArray(size(wShape), 5);
        const outShape = reference(xData, xShape, wData, wShape, new Float32Array(0), g, true).outShape;
        const dyData = randomArray(size(outShape), 6);
        const ref = reference(xData, xShape, wData, wShape, dyData, g, true);
        const [x, w, dy] = [tf.tensor4d(xData, xShape), tf.tensor4d(wData, wShape), tf.tensor4d(dyData, outShape)];
        const [dw, dx] = [depthwiseFilterGrad(x, dy, wShape, g), depthwiseInputGrad(xShape, dy, w, g)];
        expectClose(dw.dataSync(), ref.dw);
        expectClose(dx.dataSync(), ref.dx);
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(depthwiseConv2dTrainable(a as tf.Tensor4D, b as tf.Tensor4D, g), dy)))([x, w]);
        expectClose(gx!.dataSync(), ref.dx);
        expectClose(gw!.dataSync(), ref.dw);
        tf.dispose([x, w, dy, dw, dx, gx!, gw!]);
      });
    }
  }
});
