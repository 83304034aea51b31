// NumPy .npy (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): magic "\x93NUMPY",
// version, header length, then a Python dict literal {'descr', 'fortran_order', 'shape'} padded with
// spaces and a newline so that the data starts 64-byte aligned. Python: `numpy.load(path)`.
import { InvalidArgumentError } from '../../errors.js';
import { elementCount, FLOAT_BYTES, floatBytesLE, isValidShape, readFloats, type FloatKind } from './bytes.js';
import { TensorFileFormatError } from './errors.js';

export type NpyDtype = 'f4' | 'f2';

export interface DecodedNpy {
  /** Row-major values as float32 ('<f8' files are rounded to float32). */
  data: Float32Array;
  shape: number[];
  /** The file's element type: 'f2', 'f4' or 'f8'. */
  dtype: FloatKind;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy.lib.format.ARRAY_ALIGN: data starts at a multiple of 64 bytes. */
const ARRAY_ALIGN = 64;
const PREAMBLE_V1 = MAGIC.length + 2 + 2; // magic, version, uint16 header length
const PREAMBLE_V2 = MAGIC.length + 2 + 4; // magic, version, uint32 header length

/** Writes a C-order, little-endian NPY v1.0 file ('<f4' or '<f2'). */
export function encodeNpy(data: Float32Array, shape: number[], dtype: NpyDtype = 'f4'): Buffer {
  if (dtype !== 'f4' && dtype !== 'f2') throw new InvalidArgumentError(`Unknown npy dtype '${String(dtype)}': expected 'f4' or 'f2'.`);
  if (!isValidShape(shape)) throw new InvalidArgumentError(`Invalid npy shape ${JSON.stringify(shape)}.`);
  if (elementCount(shape) !== data.length) {
    throw new InvalidArgumentError(`Shape [${shape.join(', ')}] holds ${elementCount(shape)} values but data has ${data.length}.`);
  }
  const dict = `{'descr': '<${dtype}', 'fortran_order': False, 'shape': ${pythonTuple(shape)}, }`;
  const padding = (ARRAY_ALIGN - ((PREAMBLE_V1 + dict.length + 1) % ARRAY_ALIGN)) % ARRAY_ALIGN;
  const header = `${dict}${' '.repeat(padding)}\n`;
  if (header.length > 0xffff) throw new InvalidArgumentError(`npy header of ${header.length} bytes does not fit format 1.0.`);
  const body = floatBytesLE(data, dtype);
  const out = Buffer.alloc(PREAMBLE_V1 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1; // version 1.0
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, PREAMBLE_V1, 'latin1');
  out.set(body, PREAMBLE_V1 + header.length);
  return out;
}

/**
 * Reads an NPY file (versions 1–3) of float16/32/64, either byte order, C order.
 * @throws TensorFileFormatError (code 'InvalidTensorFile')
 */
export function decodeNpy(buf: Uint8Array): DecodedNpy {
  if (buf.length < PREAMBLE_V1 || !MAGIC.every((b, i) => buf[i] === b)) throw invalid('missing the \\x93NUMPY magic');
  const major = buf[6]!;
  if (major < 1 || major > 3) throw invalid(`unknown format version ${major}.${buf[7]}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const preamble = major === 1 ? PREAMBLE_V1 : PREAMBLE_V2;
  if (buf.length < preamble) throw invalid('truncated before the header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = preamble + headerLength;
  if (dataStart > buf.length) throw invalid(`header length ${headerLength} runs past the end of the file`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(preamble, dataStart));
  const { kind, littleEndian, shape } = parseHeader(header);
  const expected = elementCount(shape) * FLOAT_BYTES[kind];
  if (buf.length - dataStart !== expected) {
    throw invalid(`shape [${shape.join(', ')}] of ${kind} needs ${expected} data bytes, the file has ${buf.length - dataStart}`);
  }
  return { data: readFloats(buf, dataStart, elementCount(shape), kind, littleEndian), shape, dtype: kind };
}

function parseHeader(header: string): { kind: FloatKind; littleEndian: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw invalid(`unreadable header ${JSON.stringify(header.trim())}`);
  const dtype = /^([<>=|])(f[248])$/.exec(descr);
  if (!dtype) throw invalid(`dtype '${descr}' is not supported: expected float16, float32 or float64 ('<f2', '<f4', '<f8')`);
  if (fortran === 'True') throw invalid('fortran_order arrays are not supported; save numpy.ascontiguousarray(x) instead');
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const shape = dims.map(Number);
  if (!isValidShape(shape)) throw invalid(`invalid shape (${shapeText})`);
  return { kind: dtype[2] as FloatKind, littleEndian: dtype[1] !== '>', shape };
}

/** Python's repr of a shape tuple: (), (5,), (2, 3). */
function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function invalid(detail: string): TensorFileFormatError {
  return new TensorFileFormatError('npy', detail);
}
