import { createHash } from 'node:crypto';
import { WeightsFormatError } from './errors.js';
import { sizeOf, type LayerWeights } from './types.js';

/**
 * The converted weights file (`weights.bin`) is a safetensors file, so Python reads it in one line
 * (`safetensors.numpy.load_file`): an 8-byte little-endian header length, a JSON header padded with
 * spaces to 8 bytes, then raw little-endian float32 data. Tensor keys are `<layer>/<weight>`
 * ('conv1/bn/gamma'); since layer names may contain '/', `__metadata__.layers` lists the layers and
 * their weight counts in order, and tensors follow that order in the data. The header holds nothing
 * else (no dates, no paths), so the file, and with it the weights digest, depends only on the weights.
 */
export const WEIGHTS_FILE_FORMAT = 'headstart-weights';
export const WEIGHTS_FILE_VERSION = '1';

interface TensorHeader {
  dtype: 'F32';
  shape: number[];
  data_offsets: [number, number];
}

/** The file as a sequence of byte chunks (header, then one chunk per weight): written or hashed as it streams. */
export function* encodeWeightsFile(weights: LayerWeights): Generator<Uint8Array> {
  const header: Record<string, unknown> = {
    __metadata__: {
      format: WEIGHTS_FILE_FORMAT,
      version: WEIGHTS_FILE_VERSION,
      layers: JSON.stringify(weights.map((l) => [l.layer, l.weights.length])),
    },
  };
  let offset = 0;
  for (const { layer, weights: list } of weights) {
    for (const w of list) {
      const bytes = w.data.length * 4;
      header[`${layer}/${w.name}`] = { dtype: 'F32', shape: w.shape, data_offsets: [offset, offset + bytes] } satisfies TensorHeader;
      offset += bytes;
    }
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Buffer.alloc(Math.ceil(json.length / 8) * 8, 0x20);
  json.copy(padded);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(padded.length));
  yield prefix;
  yield padded;
  for (const { weights: list } of weights) {
    for (const w of list) yield new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength);
  }
}

/** First 16 hex characters of the sha256 of the encoded file: the weights digest of the feature cache. */
export function weightsDigest(weights: LayerWeights): string {
  const hash = createHash('sha256');
  for (const chunk of encodeWeightsFile(weights)) hash.update(chunk);
  return hash.digest('hex').slice(0, 16);
}

/** Parses a file written by encodeWeightsFile. Weight arrays are views on `bytes` where alignment allows. */
export function decodeWeightsFile(bytes: Uint8Array, source = 'weights file'): LayerWeights {
  if (bytes.byteLength < 8) throw new WeightsFormatError(`${source} is truncated: ${bytes.byteLength} bytes.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const dataStart = 8 + headerLength;
  if (dataStart > bytes.byteLength) throw new WeightsFormatError(`${source} is truncated: header says ${headerLength} bytes.`);
  const header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8')) as Record<string, unknown>;
  const metadata = header.__metadata__ as Record<string, string> | undefined;
  if (metadata?.format !== WEIGHTS_FILE_FORMAT || metadata.version !== WEIGHTS_FILE_VERSION) {
    throw new WeightsFormatError(`${source} is not a ${WEIGHTS_FILE_FORMAT} v${WEIGHTS_FILE_VERSION} file.`);
  }
  const tensors = Object.entries(header)
    .filter(([key]) => key !== '__metadata__')
    .map(([key, value]) => ({ key, ...(value as TensorHeader) }))
    .sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
  const layers = JSON.parse(metadata.layers ?? '[]') as [string, number][];
  const result: LayerWeights = [];
  let next = 0;
  for (const [layer, count] of layers) {
    const weights = tensors.slice(next, next + count).map((t) => {
      if (!t.key.startsWith(`${layer}/`)) throw new WeightsFormatError(`${source}: tensor '${t.key}' is out of order (expected a weight of '${layer}').`);
      return { name: t.key.slice(layer.length + 1), shape: t.shape, data: floatView(bytes, dataStart + t.data_offsets[0], sizeOf(t.shape), source) };
    });
    next += count;
    result.push({ layer, weights });
  }
  return result;
}

function floatView(bytes: Uint8Array, start: number, length: number, source: string): Float32Array {
  const byteOffset = bytes.byteOffset + start;
  if (start + length * 4 > bytes.byteLength) throw new WeightsFormatError(`${source} is truncated: data ends at ${bytes.byteLength} bytes.`);
  if (byteOffset % 4 === 0) return new Float32Array(bytes.buffer, byteOffset, length);
  return new Float32Array(bytes.buffer.slice(byteOffset, byteOffset + length * 4));
}
