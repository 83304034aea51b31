import { zipSync, type Zippable } from 'fflate';
import { exportToOnnx } from '../engine/onnx/export.js';
import { HeadstartError } from '../errors.js';
import { serializeHead } from '../heads/serialize.js';
import type { tf } from '../engine/backend.js';
import { INPUT_NAME, mergedModel, OUTPUT_NAME } from './graph.js';
import { maxAbsDifference, mergedProbabilities, parityFile, PARITY_TOLERANCE, referenceImages, referenceProbabilities } from './parity.js';
import { bundleReadme } from './readme.js';
import type { ExportSource } from './source.js';
import type { ExportFormat } from './formats.js';

export interface ExportBundle {
  format: ExportFormat;
  /** `<id>-<format>.zip` */
  fileName: string;
  /** The bundle's files by name, in zip order. */
  files: Record<string, Uint8Array>;
  zip: Uint8Array;
  /** The merged TF.js graph against headstart's own path on the reference inputs (checked ≤ PARITY_TOLERANCE). */
  parity: { maxAbsDifference: number };
}

/** The merged graph strays from headstart's own path: a bug of ours, never shipped. */
export class ExportParityError extends HeadstartError {
  constructor(id: string, difference: number) {
    super('ExportParity', `The export of '${id}' gives probabilities up to ${difference} away from headstart's own (tolerance ${PARITY_TOLERANCE}); nothing was exported.`);
  }
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const json = (value: unknown): Uint8Array => utf8(`${JSON.stringify(value, null, 2)}\n`);

/**
 * The zip bundle of one source: the merged graph (uint8 input for ONNX, float32 pixels for TF.js), labels.json,
 * parity.json and README.md. The merged TF.js model is checked against headstart's own preprocessing and models on
 * the reference inputs before anything is written (ExportParityError otherwise). Creates no tensor that outlives it.
 */
export async function buildBundle(source: ExportSource, format: ExportFormat): Promise<ExportBundle> {
  const merged = mergedModel(source);
  try {
    return await bundleOf(source, format, merged.model);
  } finally {
    merged.release();
  }
}

async function bundleOf(source: ExportSource, format: ExportFormat, merged: tf.LayersModel): Promise<ExportBundle> {
  const images = referenceImages(...source.input.size);
  const expected = referenceProbabilities(source, images);
  const difference = maxAbsDifference(mergedProbabilities(merged, images), expected);
  if (!(difference <= PARITY_TOLERANCE)) throw new ExportParityError(source.id, difference);

  const files: Record<string, Uint8Array> = {};
  if (format === 'onnx') {
    files['model.onnx'] = exportToOnnx(merged, { inputType: 'uint8', inputNames: [INPUT_NAME], outputNames: [OUTPUT_NAME] });
  } else {
    const { modelJson, weightsBin } = await serializeHead(merged);
    files['model.json'] = json(modelJson);
    files['model.weights.bin'] = weightsBin;
  }
  files['labels.json'] = json(source.labels);
  files['parity.json'] = json(parityFile(source, images, expected, INPUT_NAME));
  files['README.md'] = utf8(bundleReadme(source, format, Object.keys(files).concat('README.md')));

  // Weights barely deflate (float32): stored, which saves seconds; the JSON and text files are deflated.
  const entries: Zippable = Object.fromEntries(Object.entries(files).map(([name, data]) => [name, [data, { level: name.endsWith('.onnx') || name.endsWith('.bin') ? 0 : 6 }]]));
  return { format, fileName: `${source.id}-${format}.zip`, files, zip: zipSync(entries), parity: { maxAbsDifference: difference } };
}
