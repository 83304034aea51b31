import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../../src/features/format/float16.js';
import { python, tempDir } from './python.js';

const tmp = tempDir('headstart-f16-');
afterAll(() => tmp.remove());

describe('float32ToFloat16Bits', () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.333251953125, 0x3555], // exactly representable
    [65504, 0x7bff], // largest finite half
    [65519.99, 0x7bff], // rounds down, still finite
    [65520, 0x7c00], // halfway to the next binade: ties to even → infinity
    [1e6, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // halfway to the smallest subnormal: ties to even → 0
    [2 ** -25 * 1.0001, 0x0001],
    [3 * 2 ** -25, 0x0002], // 1.5 ulps: ties to even → 2
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: ties to even (down)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway, odd below: rounds up
    [2 ** -130, 0x0000], // float32 subnormal underflows
  ])('%s → %i', (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it('keeps NaN a NaN', () => {
    const bits = float32ToFloat16Bits(NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x3ff).not.toBe(0);
    expect(float16BitsToFloat32(bits)).toBeNaN();
  });

  it('agrees with numpy astype(float16) on 20,000 values across the whole range', () => {
    const values = new Float32Array(20_000);
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < values.length; i++) {
      // Log-uniform magnitudes from 2^-28 to 2^17 cover subnormals, normals and overflow; some exact ties too.
      values[i] = (random() < 0.5 ? -1 : 1) * 2 ** (random() * 45 - 28);
      if (i % 10 === 0) values[i] = (Math.floor(random() * 4096) + 0.5) * 2 ** (Math.floor(random() * 20) - 30);
    }
    const input = tmp.path('values.f32');
    writeFileSync(input, values);
    const ours = Array.from(values, float32ToFloat16Bits);

    const expected = python(
      'import sys, warnings, numpy as np; warnings.simplefilter("ignore"); v = np.fromfile(sys.argv[1], "<f4"); sys.stdout.write(" ".join(map(str, v.astype(np.float16).view(np.uint16))))',
      input,
    )
      .split(' ')
      .map(Number);

    const mismatches = ours.flatMap((bits, i) => (bits === expected[i] ? [] : [`${values[i]}: ${bits} vs ${expected[i]}`]));
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});

describe('float16BitsToFloat32', () => {
  it('decodes every half exactly (round trip of all 63,488 finite patterns)', () => {
    const bad: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue; // inf / NaN
      if (float32ToFloat16Bits(float16BitsToFloat32(bits)) !== bits) bad.push(bits);
    }
    expect(bad).toEqual([]);
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(float16BitsToFloat32(0x0001)).toBe(2 ** -24);
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
  });
});
