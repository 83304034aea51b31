import { describe, expect, it } from 'vitest';
import { attr } from '../../../src/engine/onnx/graph-builder.js';
import { paddingAttributes, samePadding } from '../../../src/engine/onnx/padding.js';
import { depthwiseToOnnx, hwioToOihw } from '../../../src/engine/onnx/weights.js';

describe("samePadding (TF 'same': extra pixel at the end)", () => {
  it.each([
    // in, kernel, stride, dilation, [before, after]
    [9, 3, 2, 1, [1, 1]],
    [8, 3, 2, 1, [0, 1]],
    [224, 7, 2, 1, [2, 3]],
    [225, 7, 2, 1, [3, 3]],
    [7, 4, 1, 1, [1, 2]],
    [7, 1, 1, 1, [0, 0]],
    [8, 2, 2, 1, [0, 0]],
    [9, 3, 1, 2, [2, 2]],
  ])('in %i, kernel %i, stride %i, dilation %i → %j', (size, kernel, stride, dilation, expected) => {
    expect(samePadding(size, kernel, stride, dilation)).toEqual(expected);
  });
});

describe('paddingAttributes', () => {
  it("gives 'valid' no attributes", () => {
    expect(paddingAttributes('valid', [8, 8], [3, 3], [2, 2])).toEqual({});
  });

  it("gives 'same' explicit [top, left, bottom, right] pads from the static size", () => {
    expect(paddingAttributes('same', [8, 9], [3, 3], [2, 2])).toEqual({ pads: attr.ints([0, 1, 1, 1]) });
  });

  it("falls back to SAME_UPPER when the image size is dynamic", () => {
    expect(paddingAttributes('same', [null, null], [3, 3], [2, 2])).toEqual({ auto_pad: attr.string('SAME_UPPER') });
  });
});

describe('kernel layouts', () => {
  it('reorders a TF HWIO kernel to ONNX OIHW', () => {
    // HWIO [1, 2, 2, 3]: value = w*100 + i*10 + o
    const shape = [1, 2, 2, 3];
    const data = new Float32Array(12);
    for (let w = 0; w < 2; w++) for (let i = 0; i < 2; i++) for (let o = 0; o < 3; o++) data[w * 6 + i * 3 + o] = w * 100 + i * 10 + o;
    const { data: out, dims } = hwioToOihw(data, shape);
    expect(dims).toEqual([3, 2, 1, 2]);
    const expected: number[] = [];
    for (let o = 0; o < 3; o++) for (let i = 0; i < 2; i++) for (let w = 0; w < 2; w++) expected.push(w * 100 + i * 10 + o);
    expect(Array.from(out)).toEqual(expected);
  });

  it('reorders a depthwise kernel [kh, kw, C, M] to [C·M, 1, kh, kw] with TF channel order c·M + m', () => {
    // [1, 2, 2, 2]: value = w*100 + c*10 + m
    const shape = [1, 2, 2, 2];
    const data = new Float32Array(8);
    for (let w = 0; w < 2; w++) for (let c = 0; c < 2; c++) for (let m = 0; m < 2; m++) data[w * 4 + c * 2 + m] = w * 100 + c * 10 + m;
    const { data: out, dims } = depthwiseToOnnx(data, shape);
    expect(dims).toEqual([4, 1, 1, 2]);
    expect(Array.from(out)).toEqual([0, 100, 1, 101, 10, 110, 11, 111]);
  });
});
