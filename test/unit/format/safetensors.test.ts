import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { TensorFileFormatError } from '../../../src/features/format/errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../../../src/features/format/safetensors.js';
import { python, tempDir } from './python.js';

const tmp = tempDir('headstart-safetensors-');
afterAll(() => tmp.remove());

// A reader written from the spec alone (the safetensors package is not installed): header length, JSON,
// frombuffer at the data offsets. Prints what it found as JSON.
const PY_READ = `
import sys, json, struct, numpy as np
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
meta = header.pop('__metadata__', None)
data = raw[8 + n:]
dtypes = {'F32': '<f4', 'F16': '<f2'}
out = {}
for name, t in header.items():
    begin, end = t['data_offsets']
    a = np.frombuffer(data[begin:end], dtype=dtypes[t['dtype']]).reshape(t['shape'])
    values = [float(v) if np.isfinite(v) else str(v) for v in a.astype(np.float64).ravel()]  # JSON has no inf
    out[name] = {'dtype': str(a.dtype), 'shape': list(a.shape), 'values': values, 'offsets': [begin, end]}
print(json.dumps({'n': n, 'padding': raw[8:8 + n][len(raw[8:8 + n].rstrip(b' ')):].decode(), 'meta': meta, 'tensors': out, 'data': len(data)}))
`;

function tensor(dtype: 'F32' | 'F16', shape: number[], values: number[]): SafetensorsTensor {
  return { dtype, shape, data: Float32Array.from(values) };
}

describe('encodeSafetensors → Python (numpy, reading the spec)', () => {
  it('writes tensors, shapes, dtypes and __metadata__ that numpy reads back exactly', () => {
    const file = tmp.path('mixed.safetensors');
    const tensors = {
      features: tensor('F32', [2, 3], [0.5, -1.25, 3e-8, 1e20, -0, 7]),
      half: tensor('F16', [3], [1, 0.333251953125, -65504]),
      bias: tensor('F32', [], [42]),
      empty: tensor('F32', [0, 4], []),
    };
    const metadata = { model: 'densenet121', layer: 'avg_pool', note: 'ünïcode ✓' };
    writeFileSync(file, encodeSafetensors(tensors, metadata));

    const read = JSON.parse(python(PY_READ, file));

    expect(read.meta).toEqual(metadata);
    expect(read.n % 8).toBe(0);
    expect(read.padding).toMatch(/^ *$/);
    expect(read.tensors.features).toMatchObject({ dtype: 'float32', shape: [2, 3], values: Array.from(tensors.features.data) });
    expect(read.tensors.half).toMatchObject({ dtype: 'float16', shape: [3], values: [1, 0.333251953125, -65504] });
    expect(read.tensors.bias).toMatchObject({ dtype: 'float32', shape: [], values: [42] });
    expect(read.tensors.empty).toMatchObject({ dtype: 'float32', shape: [0, 4], values: [] });
    // Contiguous, F32 first (sorted by name: bias, empty, features), then F16: every tensor stays aligned.
    expect([read.tensors.bias.offsets, read.tensors.empty.offsets, read.tensors.features.offsets, read.tensors.half.offsets]).toEqual([
      [0, 4],
      [4, 4],
      [4, 28],
      [28, 34],
    ]);
    expect(read.data).toBe(34);
  });

  it('a single-dtype file is in plain sorted-name order and omits __metadata__ when there is none', () => {
    const file = tmp.path('sorted.safetensors');
    writeFileSync(file, encodeSafetensors({ b: tensor('F32', [1], [2]), a: tensor('F32', [1], [1]), c: tensor('F32', [1], [3]) }));

    const read = JSON.parse(python(PY_READ, file));

    expect(read.meta).toBeNull();
    expect(['a', 'b', 'c'].map((k) => read.tensors[k].offsets)).toEqual([[0, 4], [4, 8], [8, 12]]);
  });

  it('rounds F16 to nearest even like numpy', () => {
    const file = tmp.path('f16.safetensors');
    const values = [0.1, 1 / 3, 2049, 2051, 1e-7, 70000];
    writeFileSync(file, encodeSafetensors({ x: tensor('F16', [6], values) }));

    const read = JSON.parse(python(PY_READ, file));
    const numpy = JSON.parse(
      python(
        `import json, sys, warnings, numpy as np; warnings.simplefilter('ignore')
h = np.array(json.loads(sys.argv[1]), np.float32).astype(np.float16).astype(np.float64)
print(json.dumps([float(v) if np.isfinite(v) else str(v) for v in h]))`,
        JSON.stringify(values),
      ),
    );

    expect(read.tensors.x.values).toEqual(numpy);
    expect(numpy.slice(2)).toEqual([2048, 2052, 1.1920928955078125e-7, 'inf']); // ties to even, subnormal, overflow
  });
});

describe('decodeSafetensors', () => {
  it('round-trips what encodeSafetensors writes', () => {
    const tensors = { w: tensor('F32', [2, 2], [1, 2, 3, 4]), h: tensor('F16', [2], [0.5, -2]) };

    const decoded = decodeSafetensors(encodeSafetensors(tensors, { k: 'v' }));

    expect(decoded.metadata).toEqual({ k: 'v' });
    expect(decoded.tensors.w).toEqual(tensors.w);
    expect(decoded.tensors.h).toEqual(tensors.h);
  });

  it('reads a file written by Python (unpadded header, other key order, unaligned view)', () => {
    const file = tmp.path('from-python.safetensors');
    python(
      `
import sys, json, struct, numpy as np
a = np.arange(6, dtype='<f4').reshape(2, 3) / 4
h = np.array([1.5, -0.25], dtype='<f2')
header = {'h': {'dtype': 'F16', 'shape': [2], 'data_offsets': [24, 28]}, '__metadata__': {'source': 'python'},
          'a': {'dtype': 'F32', 'shape': [2, 3], 'data_offsets': [0, 24]}}
text = json.dumps(header).encode()
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(text)) + text + a.tobytes() + h.tobytes())
`,
      file,
    );
    // A Buffer view at an odd offset: the reader must not assume alignment.
    const bytes = readFileSync(file);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);

    const decoded = decodeSafetensors(shifted.subarray(1));

    expect(decoded.metadata).toEqual({ source: 'python' });
    expect(decoded.tensors.a).toEqual({ dtype: 'F32', shape: [2, 3], data: Float32Array.from([0, 0.25, 0.5, 0.75, 1, 1.25]) });
    expect(decoded.tensors.h).toEqual({ dtype: 'F16', shape: [2], data: Float32Array.from([1.5, -0.25]) });
  });

  const file = (header: unknown, data = new Uint8Array(0), declared?: bigint): Uint8Array => {
    const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
    const out = Buffer.alloc(8 + json.length + data.length);
    out.writeBigUInt64LE(declared ?? BigInt(json.length));
    json.copy(out, 8);
    out.set(data, 8 + json.length);
    return out;
  };
  const entry = (dtype: string, shape: number[], offsets: number[]): unknown => ({ dtype, shape, data_offsets: offsets });

  it.each([
    ['shorter than the length prefix', new Uint8Array(5), /5 bytes is too short for the 8-byte header length/],
    ['a header length past the end', file({}, new Uint8Array(4), 1000n), /header length 1000 exceeds the 6 bytes after it/],
    ['a header length over 2^53', file({}, new Uint8Array(0), 2n ** 63n), /exceeds/],
    ['a header that is not JSON', file('{"a": '), /not valid JSON/],
    ['a header that is not an object', file('[1, 2]'), /does not start with a JSON object/],
    ['offsets out of range', file({ x: entry('F32', [2], [0, 8]) }, new Uint8Array(4)), /data_offsets \[0,8\] outside the 4-byte buffer/],
    ['offsets that disagree with the shape', file({ x: entry('F32', [2], [0, 4]) }, new Uint8Array(4)), /spans 4 bytes but F32 \[2\] needs 8/],
    ['a hole before a tensor', file({ x: entry('F32', [1], [4, 8]) }, new Uint8Array(8)), /starts at byte 4, expected 0/],
    ['overlapping tensors', file({ x: entry('F32', [1], [0, 4]), y: entry('F32', [1], [0, 4]) }, new Uint8Array(4)), /'y' starts at byte 0, expected 4/],
    ['bytes after the last tensor', file({ x: entry('F32', [1], [0, 4]) }, new Uint8Array(8)), /cover 4 of the 8 data bytes/],
    ['an unsupported dtype', file({ x: entry('I64', [1], [0, 8]) }, new Uint8Array(8)), /dtype "I64"; supported: 'F32' or 'F16'/],
    ['a negative dimension', file({ x: entry('F32', [-1], [0, 0]) }), /invalid shape \[-1\]/],
    ['non-string metadata', file({ __metadata__: { epochs: 3 } }), /__metadata__ must map strings to strings/],
  ])('refuses %s with a typed error', (_, bytes, message) => {
    const attempt = (): unknown => decodeSafetensors(bytes);

    expect(attempt).toThrow(TensorFileFormatError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as TensorFileFormatError).code).toBe('InvalidTensorFile');
    }
  });
});

describe('encodeSafetensors validation', () => {
  it('refuses a shape that does not match the data, bad names and non-string metadata', () => {
    expect(() => encodeSafetensors({ x: tensor('F32', [2, 2], [1, 2, 3]) })).toThrow(
      "Tensor 'x' has shape [2, 2] (4 values) but 3 values.",
    );
    expect(() => encodeSafetensors({ __metadata__: tensor('F32', [1], [1]) })).toThrow(InvalidArgumentError);
    expect(() => encodeSafetensors({ x: { ...tensor('F32', [1], [1]), dtype: 'F64' as 'F32' } })).toThrow("expected 'F32' or 'F16'");
    expect(() => encodeSafetensors({ x: tensor('F32', [1], [1]) }, { n: 3 as unknown as string })).toThrow(
      "safetensors metadata must map strings to strings; 'n' is number.",
    );
  });
});
