import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { TensorFileFormatError } from '../../../src/features/format/errors.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../../src/features/format/float16.js';
import { decodeNpy, encodeNpy } from '../../../src/features/format/npy.js';
import { python, tempDir } from './python.js';

const tmp = tempDir('headstart-npy-');
afterAll(() => tmp.remove());

const CASES: Array<[string, number[], number[]]> = [
  ['matrix', [2, 3], [0.5, -1.25, 3e-8, 1e20, -0, 7]],
  ['vector', [5], [1, 2, 3, 4, 5]],
  ['scalar', [], [42]],
  ['empty', [0, 4], []],
  ['batch', [1, 2, 2, 1], [1, 2, 3, 4]],
];

describe('encodeNpy → numpy.load', () => {
  it.each(['f4', 'f2'] as const)('numpy loads %s arrays of every rank with the same values and shape', (dtype) => {
    const files = CASES.map(([name, shape, values]) => {
      const file = tmp.path(`${name}-${dtype}.npy`);
      writeFileSync(file, encodeNpy(Float32Array.from(values), shape, dtype));
      return file;
    });

    const loaded = JSON.parse(
      python(
        `import sys, json, numpy as np
out = []
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        version = np.lib.format.read_magic(f)
        np.lib.format.read_array_header_1_0(f)
        offset = f.tell()
    a = np.load(path)
    values = [float(v) if np.isfinite(v) else str(v) for v in a.astype(np.float64).ravel()]  # JSON has no inf
    out.append({'dtype': a.dtype.str, 'shape': list(a.shape), 'values': values, 'version': list(version), 'offset': offset})
print(json.dumps(out))`,
        ...files,
      ),
    );

    loaded.forEach((array: { dtype: string; shape: number[]; values: number[]; version: number[]; offset: number }, i: number) => {
      const [, shape, values] = CASES[i]!;
      // float16 rounds 3e-8 to 0 and overflows 1e20 to inf; numpy must see exactly our rounding.
      const stored = Array.from(Float32Array.from(values), (v) => (dtype === 'f4' ? v : float16BitsToFloat32(float32ToFloat16Bits(v))));
      expect(array).toMatchObject({ dtype: `<${dtype}`, shape, version: [1, 0] });
      expect(array.offset % 64).toBe(0);
      expect(array.values).toEqual(stored.map((v) => (Number.isFinite(v) ? v : String(v).replace('Infinity', 'inf'))));
    });
  });

  it('writes the same bytes as numpy.save', () => {
    const file = tmp.path('numpy-own.npy');
    python(`import sys, numpy as np; np.save(sys.argv[1], (np.arange(6, dtype=np.float32) / 8).reshape(2, 3))`, file);

    const ours = encodeNpy(Float32Array.from([0, 1, 2, 3, 4, 5].map((v) => v / 8)), [2, 3]);

    expect(ours.equals(readFileSync(file))).toBe(true);
  });

  it('refuses a shape that does not match the data and unknown dtypes', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow('Shape [2, 3] holds 6 values but data has 5.');
    expect(() => encodeNpy(new Float32Array(1), [1], 'f8' as 'f4')).toThrow(InvalidArgumentError);
    expect(() => encodeNpy(new Float32Array(1), [1.5])).toThrow('Invalid npy shape [1.5].');
  });
});

describe('decodeNpy', () => {
  it('reads what numpy writes: float16/32/64, both byte orders, scalars, format 2.0', () => {
    const names = ['f4', 'f2', 'f8', 'be', 'scalar', 'v2'];
    const files = names.map((n) => tmp.path(`py-${n}.npy`));
    python(
      `import sys, numpy as np
f4, f2, f8, be, scalar, v2 = sys.argv[1:]
base = (np.arange(12).reshape(3, 4) - 5.5) / 4
np.save(f4, base.astype('<f4'))
np.save(f2, base.astype('<f2'))
np.save(f8, base)
np.save(be, base.astype('>f4'))
np.save(scalar, np.float32(3.25))
with open(v2, 'wb') as f:
    np.lib.format.write_array(f, base.astype('<f4'), version=(2, 0))`,
      ...files,
    );
    const expected = Float32Array.from({ length: 12 }, (_, i) => (i - 5.5) / 4);

    const [f4, f2, f8, be, scalar, v2] = files.map((f) => decodeNpy(readFileSync(f)));

    for (const [decoded, dtype] of [[f4, 'f4'], [f2, 'f2'], [f8, 'f8'], [be, 'f4'], [v2, 'f4']] as const) {
      expect(decoded).toEqual({ data: expected, shape: [3, 4], dtype });
    }
    expect(scalar).toEqual({ data: Float32Array.from([3.25]), shape: [], dtype: 'f4' });
  });

  it('round-trips encodeNpy output', () => {
    const data = Float32Array.from([1, -2, 0.5, 1e-3]);

    expect(decodeNpy(encodeNpy(data, [2, 2]))).toEqual({ data, shape: [2, 2], dtype: 'f4' });
    expect(decodeNpy(encodeNpy(data, [4], 'f2')).data[3]).toBeCloseTo(1e-3, 6);
  });

  it('refuses Fortran order and non-float dtypes with a clear message', () => {
    const fortran = tmp.path('fortran.npy');
    const ints = tmp.path('ints.npy');
    python(`import sys, numpy as np; np.save(sys.argv[1], np.asfortranarray(np.ones((2, 3), np.float32))); np.save(sys.argv[2], np.arange(3))`, fortran, ints);

    expect(() => decodeNpy(readFileSync(fortran))).toThrow('fortran_order arrays are not supported; save numpy.ascontiguousarray(x) instead');
    expect(() => decodeNpy(readFileSync(ints))).toThrow(/dtype '<i8' is not supported: expected float16, float32 or float64/);
  });

  it.each([
    ['bad magic', Buffer.from('NOTNUMPY-at-all-12345')],
    ['a header running past the end', Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0xff, 0x00]), Buffer.from('{}')])],
    ['missing data', encodeNpy(new Float32Array(6), [2, 3]).subarray(0, 64 + 20)],
    ['an unreadable header', Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 4, 0]), Buffer.from('{}\n ')])],
  ])('refuses %s with a typed error', (_, bytes) => {
    expect(() => decodeNpy(bytes)).toThrow(TensorFileFormatError);
    try {
      decodeNpy(bytes);
    } catch (error) {
      expect(error).toMatchObject({ code: 'InvalidTensorFile', format: 'npy' });
      expect((error as Error).message).toMatch(/^Invalid npy file: .+\.$/);
    }
  });
});
