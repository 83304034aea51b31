import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../../errors.js';
import { LIBRARY_VERSION } from '../../version.js';
import { EXPORTER_VERSION, exportToOnnx, type ExportOptions } from './export.js';

export interface ExportCacheOptions extends ExportOptions {
  /** The cache root; the file goes to `<cacheDir>/onnx/<key>.onnx`. */
  cacheDir: string;
  /** What identifies the graph and its weights, e.g. `${modelId}@${weightsDigest}/${cut}`. */
  key: string;
}

export interface CachedExport {
  path: string;
  /** True when an earlier export was reused. */
  reused: boolean;
}

/** Written beside the .onnx, last: an export is complete and current only when this says so. */
interface ExportRecord {
  key: string;
  bytes: number;
  opset: number;
  producer: string;
  exporterVersion: number;
  libraryVersion: string;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._@+=-]*$/;
const inFlight = new Map<string, Promise<CachedExport>>();

export function checkKey(key: string): void {
  if (!key.split('/').every((segment) => SEGMENT.test(segment))) {
    throw new InvalidArgumentError(
      `Invalid ONNX cache key '${key}': expected '/'-separated segments of letters, digits and . _ @ + = - ` +
        `(not starting with '.' or '-'), e.g. 'resnet50@3f2a…/avg_pool'.`,
    );
  }
}

/** tmp + rename in the same folder: readers see the old file or the whole new one, never a part. */
export async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

async function isCurrent(path: string, recordPath: string, expected: Omit<ExportRecord, 'bytes' | 'libraryVersion'>): Promise<boolean> {
  try {
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as ExportRecord;
    const { size } = await stat(path);
    return (
      record.key === expected.key &&
      record.opset === expected.opset &&
      record.producer === expected.producer &&
      record.exporterVersion === expected.exporterVersion &&
      record.bytes === size
    );
  } catch {
    return false;
  }
}

/**
 * Exports `model` to `<cacheDir>/onnx/<key>.onnx` once and reuses that file afterwards (also across
 * processes). The key must change whenever the graph or its weights do; a new exporter version or
 * opset re-exports by itself. Concurrent calls for one key in this process share one export.
 */
export async function exportCached(model: tf.LayersModel, options: ExportCacheOptions): Promise<CachedExport> {
  checkKey(options.key);
  const path = join(options.cacheDir, 'onnx', `${options.key}.onnx`);
  let pending = inFlight.get(path);
  if (!pending) {
    pending = exportOnce(model, path, options).finally(() => inFlight.delete(path));
    inFlight.set(path, pending);
  }
  return await pending;
}

async function exportOnce(model: tf.LayersModel, path: string, options: ExportCacheOptions): Promise<CachedExport> {
  const recordPath = `${path}.json`;
  const expected = {
    key: options.key,
    opset: options.opset ?? 17,
    producer: options.producer ?? 'headstart',
    exporterVersion: EXPORTER_VERSION,
  };
  if (await isCurrent(path, recordPath, expected)) return { path, reused: true };
  const bytes = exportToOnnx(model, { opset: expected.opset, producer: expected.producer });
  await mkdir(dirname(path), { recursive: true });
  await writeAtomically(path, bytes);
  const record: ExportRecord = { ...expected, bytes: bytes.byteLength, libraryVersion: LIBRARY_VERSION };
  await writeAtomically(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  return { path, reused: false };
}
