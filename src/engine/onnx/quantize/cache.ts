import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidArgumentError } from '../../../errors.js';
import { checkKey, writeAtomically } from '../cache.js';
import { quantizeOnnx, type CalibrationBatch, type CalibrationMethod, type QuantizeReport } from './index.js';

/** Bumped whenever the quantizer's output changes, so that cached int8 graphs are redone. */
export const QUANTIZER_VERSION = 1;

export interface Int8Options {
  /** With `key`: the int8 graph is written once to `<cacheDir>/onnx/<key>.int8.onnx` and reused. */
  cacheDir?: string;
  key?: string;
  /** The calibration images, preprocessed; asked for only when no cached int8 graph fits. */
  calibration?: () => Promise<CalibrationBatch[]>;
  /** @default 'percentile' (measured best on DenseNet121: docs/benchmarks.md) */
  method?: CalibrationMethod;
}

/** Written beside the int8 .onnx, last: what it was quantized from and how well it kept the fp32 features. */
interface Int8Record {
  key: string;
  quantizerVersion: number;
  fp32Bytes: number;
  method: CalibrationMethod;
  /** sha256 of the preprocessed calibration images. */
  calibration: string;
  report: Omit<QuantizeReport, 'fidelity'> & { fidelity: { median: number; min: number } };
}

export interface Int8Graph {
  /** The int8 graph: its path when cached, else its bytes. */
  model: string | Uint8Array;
  record: Int8Record;
  reused: boolean;
}

function digest(batches: readonly CalibrationBatch[]): string {
  const hash = createHash('sha256');
  for (const b of batches) hash.update(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength));
  return hash.digest('hex');
}

async function readRecord(path: string, expected: { key: string; fp32Bytes: number }): Promise<Int8Record | undefined> {
  try {
    const record = JSON.parse(await readFile(`${path}.json`, 'utf8')) as Int8Record;
    await stat(path);
    const fits = record.key === expected.key && record.quantizerVersion === QUANTIZER_VERSION && record.fp32Bytes === expected.fp32Bytes;
    return fits ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The int8 graph of an fp32 export: the cached one when it was made from this export by this quantizer, else
 * quantized now on the calibration images (and cached). The fidelity gate runs when it is made.
 * @throws InvalidArgumentError when it must be made and no calibration images were given;
 *   Int8FidelityError when the gate refuses it.
 */
export async function int8Graph(fp32: string | Uint8Array, options: Int8Options): Promise<Int8Graph> {
  const bytes = typeof fp32 === 'string' ? new Uint8Array(await readFile(fp32)) : fp32;
  const cached = options.cacheDir !== undefined && options.key !== undefined;
  if (options.key !== undefined) checkKey(options.key);
  const path = cached ? join(options.cacheDir!, 'onnx', `${options.key}.int8.onnx`) : undefined;
  const expected = { key: options.key ?? '', fp32Bytes: bytes.byteLength };
  const existing = path ? await readRecord(path, expected) : undefined;
  if (path && existing) return { model: path, record: existing, reused: true };
  if (!options.calibration) {
    throw new InvalidArgumentError(
      `precision 'int8' needs calibration images the first time${options.key ? ` for ${options.key}` : ''}: give some ` +
        "(e.g. `--calibration <folder>`, or HEADSTART_CALIBRATION for the service); they set each activation's int8 range.",
    );
  }
  const batches = await options.calibration();
  if (batches.length === 0) throw new InvalidArgumentError("precision 'int8' needs at least one calibration image; none could be read.");
  const method = options.method ?? 'percentile';
  const { model, report } = await quantizeOnnx(bytes, batches, { method });
  const record: Int8Record = {
    ...expected,
    quantizerVersion: QUANTIZER_VERSION,
    method,
    calibration: digest(batches),
    report: { ...report, fidelity: { median: report.fidelity.median, min: report.fidelity.min } },
  };
  if (!path) return { model, record, reused: false };
  await mkdir(dirname(path), { recursive: true });
  await writeAtomically(path, model);
  await writeAtomically(`${path}.json`, `${JSON.stringify(record, null, 2)}\n`);
  return { model: path, record, reused: false };
}
