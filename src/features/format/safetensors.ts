// safetensors (https://github.com/huggingface/safetensors#format): an 8-byte little-endian header size N,
// N bytes of JSON header, then one byte buffer. The header maps each tensor name to
// { dtype, shape, data_offsets: [begin, end] } (offsets into the byte buffer) and may hold a
// string→string `__metadata__`. Python reads our files with `safetensors.numpy.load_file(path)`.
import { InvalidArgumentError } from '../../errors.js';
import { elementCount, floatBytesLE, isValidShape, readFloats, type FloatKind } from './bytes.js';
import { TensorFileFormatError } from './errors.js';

export const SAFETENSORS_DTYPES = ['F32', 'F16'] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Row-major values; F16 tensors are converted to and from float32 here. */
  data: Float32Array;
}

export interface DecodedSafetensors {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
const KIND: Record<SafetensorsDtype, 'f2' | 'f4'> = { F32: 'f4', F16: 'f2' };
const ITEM_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2 };
/** The reference implementation refuses larger headers (a guard against memory exhaustion). */
const MAX_HEADER_BYTES = 100_000_000;
/** Headers are padded with spaces so that the byte buffer starts 8-byte aligned. */
const HEADER_ALIGNMENT = 8;

interface HeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Serialises tensors to safetensors bytes. Tensors are laid out contiguously by decreasing element size,
 * then by name (the reference serializer's order: each tensor stays aligned to its element size; with a
 * single dtype this is plain sorted-name order). `metadata` becomes `__metadata__` (strings only).
 */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Buffer {
  for (const [name, tensor] of Object.entries(tensors)) validateTensor(name, tensor);
  const names = Object.keys(tensors).sort(
    (a, b) => ITEM_BYTES[tensors[b]!.dtype] - ITEM_BYTES[tensors[a]!.dtype] || (a < b ? -1 : a > b ? 1 : 0),
  );
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (metadata && Object.keys(metadata).length > 0) header[METADATA_KEY] = validateMetadata(metadata);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const tensor = tensors[name]!;
    const bytes = floatBytesLE(tensor.data, KIND[tensor.dtype]);
    header[name] = { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerLength = Math.ceil(json.length / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  const out = Buffer.alloc(8 + headerLength + offset, 0x20); // spaces pad the header
  out.writeBigUInt64LE(BigInt(headerLength), 0);
  json.copy(out, 8);
  let at = 8 + headerLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Parses safetensors bytes, validating the header (length, JSON, dtypes, shapes) and that the
 * data_offsets tile the byte buffer exactly, as the reference loader does.
 * @throws TensorFileFormatError (code 'InvalidTensorFile')
 */
export function decodeSafetensors(buf: Uint8Array): DecodedSafetensors {
  const { header, dataStart } = readHeader(buf);
  const dataLength = buf.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Array<[string, HeaderEntry]> = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value);
    else entries.push([name, parseEntry(name, value, dataLength)]);
  }
  checkCoverage(entries, dataLength);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, entry] of entries) {
    const kind: FloatKind = KIND[entry.dtype];
    tensors[name] = {
      dtype: entry.dtype,
      shape: entry.shape,
      data: readFloats(buf, dataStart + entry.data_offsets[0], elementCount(entry.shape), kind),
    };
  }
  return { tensors, metadata };
}

function validateTensor(name: string, tensor: SafetensorsTensor): SafetensorsTensor {
  if (name === '' || name === METADATA_KEY) throw new InvalidArgumentError(`Invalid tensor name '${name}' for safetensors.`);
  if (!SAFETENSORS_DTYPES.includes(tensor.dtype)) {
    throw new InvalidArgumentError(`Tensor '${name}' has dtype '${String(tensor.dtype)}': expected 'F32' or 'F16'.`);
  }
  if (!isValidShape(tensor.shape)) throw new InvalidArgumentError(`Tensor '${name}' has an invalid shape ${JSON.stringify(tensor.shape)}.`);
  if (elementCount(tensor.shape) !== tensor.data.length) {
    throw new InvalidArgumentError(
      `Tensor '${name}' has shape [${tensor.shape.join(', ')}] (${elementCount(tensor.shape)} values) but ${tensor.data.length} values.`,
    );
  }
  return tensor;
}

function validateMetadata(metadata: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new InvalidArgumentError(`safetensors metadata must map strings to strings; '${key}' is ${typeof value}.`);
    }
  }
  return { ...metadata };
}

function readHeader(buf: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (buf.length < 8) throw invalid(`${buf.length} bytes is too short for the 8-byte header length`);
  const declared = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(Math.min(buf.length - 8, MAX_HEADER_BYTES))) {
    throw invalid(`header length ${declared} exceeds the ${buf.length - 8} bytes after it (or the ${MAX_HEADER_BYTES}-byte limit)`);
  }
  const headerLength = Number(declared);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLength));
  } catch (error) {
    throw invalid('the header is not valid UTF-8', error);
  }
  if (!text.startsWith('{')) throw invalid('the header does not start with a JSON object');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw invalid(`the header is not valid JSON (${(error as Error).message})`, error);
  }
  if (!isPlainObject(header)) throw invalid('the header is not a JSON object');
  return { header, dataStart: 8 + headerLength };
}

function parseMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid('__metadata__ must map strings to strings');
  }
  return value as Record<string, string>;
}

function parseEntry(name: string, value: unknown, dataLength: number): HeaderEntry {
  if (!isPlainObject(value)) throw invalid(`tensor '${name}' is not an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (!SAFETENSORS_DTYPES.includes(dtype as SafetensorsDtype)) {
    throw invalid(`tensor '${name}' has dtype ${JSON.stringify(dtype)}; supported: 'F32' or 'F16'`);
  }
  if (!isValidShape(shape)) throw invalid(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  const valid = Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isSafeInteger(o) && o >= 0);
  if (!valid || offsets[0] > offsets[1] || offsets[1] > dataLength) {
    throw invalid(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)} outside the ${dataLength}-byte buffer`);
  }
  const expected = elementCount(shape) * ITEM_BYTES[dtype as SafetensorsDtype];
  if (offsets[1] - offsets[0] !== expected) {
    throw invalid(`tensor '${name}' spans ${offsets[1] - offsets[0]} bytes but ${dtype} [${shape.join(', ')}] needs ${expected}`);
  }
  return { dtype: dtype as SafetensorsDtype, shape, data_offsets: [offsets[0], offsets[1]] };
}

/** The byte buffer must be covered exactly: no holes, no overlaps, nothing after the last tensor. */
function checkCoverage(entries: Array<[string, HeaderEntry]>, dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0] || a[1].data_offsets[1] - b[1].data_offsets[1]);
  let expected = 0;
  for (const [name, { data_offsets: [begin, end] }] of sorted) {
    if (begin !== expected) throw invalid(`tensor '${name}' starts at byte ${begin}, expected ${expected} (holes or overlaps)`);
    expected = end;
  }
  if (expected !== dataLength) throw invalid(`the tensors cover ${expected} of the ${dataLength} data bytes`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(detail: string, cause?: unknown): TensorFileFormatError {
  return new TensorFileFormatError('safetensors', detail, cause === undefined ? undefined : { cause });
}
