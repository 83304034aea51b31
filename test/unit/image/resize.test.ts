import { describe, expect, it } from 'vitest';
import { pilNearestIndices, resizeNearest } from '../../../src/image/resize.js';

describe('pilNearestIndices (PIL Image.resize with NEAREST)', () => {
  it.each([
    // [source, target, expected]: src = floor((dst + 0.5) * source / target), worked by hand
    [7, 10, [0, 1, 1, 2, 3, 3, 4, 5, 5, 6]],
    [5, 8, [0, 0, 1, 2, 2, 3, 4, 4]],
    [10, 3, [1, 5, 8]],
    [9, 4, [1, 3, 5, 7]],
    [4, 2, [1, 3]],
    [3, 2, [0, 2]],
    [2, 3, [0, 1, 1]],
    [1, 4, [0, 0, 0, 0]],
    [6, 6, [0, 1, 2, 3, 4, 5]],
  ])('%i → %i', (source, target, expected) => {
    expect(Array.from(pilNearestIndices(source, target))).toEqual(expected);
  });

  it('accumulates the position like PIL (ImagingScaleAffine), not the closed form', () => {
    // 512 → 224 (baboon.jpg to a zoo input): step 16/7. The closed form floor(3.5 × 16/7) = floor(8) = 8, but PIL
    // adds the step in double precision, 8/7 + 3 × 16/7 lands just below 8, and it takes source pixel 7.
    const indices = pilNearestIndices(512, 224);

    expect(indices[3]).toBe(7);
    expect(Math.floor((3.5 * 512) / 224)).toBe(8);
  });

  it('is within one pixel of floor((dst + 0.5) * scale), in range and monotonic for the zoo sizes', () => {
    const problems: string[] = [];
    for (const target of [224, 299]) {
      for (let source = 1; source <= 1200; source += 7) {
        const indices = Array.from(pilNearestIndices(source, target));
        const off = indices.some((v, i) => Math.abs(v - Math.floor(((i + 0.5) * source) / target)) > 1);
        const range = indices.some((v, i) => v < 0 || v >= source || (i > 0 && v < indices[i - 1]!));
        if (off || range) problems.push(`${source}→${target}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('resizeNearest', () => {
  it('picks whole pixels (all channels together) from an interleaved buffer', () => {
    // 3×1 image with 2 channels: pixels [1,2] [3,4] [5,6]; upsample to 4×2.
    const out = resizeNearest(new Uint8Array([1, 2, 3, 4, 5, 6]), 3, 1, 2, 4, 2);

    // x: 3/4 → floor(0.375, 1.125, 1.875, 2.625) = [0, 1, 1, 2]; both rows read row 0.
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 3, 4, 5, 6, 1, 2, 3, 4, 3, 4, 5, 6]);
  });

  it.each([
    [37, 23, 224, 224],
    [1024, 683, 224, 224],
    [300, 300, 299, 299],
    [9, 5, 4, 3],
  ])('gives RGB (its written-out loop) the same pixels as the per-channel loop: %i×%i → %i×%i', (width, height, targetWidth, targetHeight) => {
    const pixels = new Uint8Array(width * height * 3).map((_, i) => (i * 7919) % 251);
    const xs = pilNearestIndices(width, targetWidth);
    const ys = pilNearestIndices(height, targetHeight);
    const expected: number[] = [];
    for (let y = 0; y < targetHeight; y++) {
      for (let x = 0; x < targetWidth; x++) for (let c = 0; c < 3; c++) expected.push(pixels[(ys[y]! * width + xs[x]!) * 3 + c]!);
    }

    expect(Array.from(resizeNearest(pixels, width, height, 3, targetWidth, targetHeight))).toEqual(expected);
  });
});
