import { InvalidArgumentError, listValues } from '../errors.js';

export const EXPORT_FORMATS = ['onnx', 'tfjs'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The model files of each format; every bundle also has COMMON_FILES. */
export const MODEL_FILES: Readonly<Record<ExportFormat, readonly string[]>> = { onnx: ['model.onnx'], tfjs: ['model.json', 'model.weights.bin'] };
export const COMMON_FILES = ['labels.json', 'parity.json', 'README.md'] as const;

/** `format` as the API and the CLI take it: required, one of EXPORT_FORMATS. */
export function parseExportFormat(value: string | undefined): ExportFormat {
  if (value === undefined || value === '') throw new InvalidArgumentError(`'format' is required: ${listValues(EXPORT_FORMATS)}.`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`Unknown export format '${value}': expected ${listValues(EXPORT_FORMATS)}.`);
  return value as ExportFormat;
}
