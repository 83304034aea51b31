/**
 * Exports a published head, a fine-tuned model or a zoo classifier as one self-contained graph (raw RGB pixels in,
 * probabilities out; preprocessing and the head inside) in a zip with labels, reference inputs and a README:
 * `GET /models/{id}/export` and `headstart export`.
 */
import type { ObjectStore } from '../store/index.js';
import { buildBundle, type ExportBundle } from './bundle.js';
import type { ExportFormat } from './formats.js';
import { openExportSource, type SourceOptions } from './source.js';

export { buildBundle, ExportParityError, type ExportBundle } from './bundle.js';
export { COMMON_FILES, EXPORT_FORMATS, MODEL_FILES, parseExportFormat, type ExportFormat } from './formats.js';
export { ExportBaseMismatchError, ExportChangedError, ExportModelNotFoundError } from './errors.js';
export { BUNDLE_VERSION, exportIdentity, exportKeyOf, storedExport, type ExportIdentity, type StoredExport } from './cache.js';
export { INPUT_NAME, mergedModel, OUTPUT_NAME } from './graph.js';
export { PARITY_TOLERANCE, referenceImages, type ParityFile } from './parity.js';
export { applyPreprocess, preprocessAffine, PREPROCESS_LAYER, type AffineMap } from './preprocess-layer.js';
export { openExportSource, type ExportSource, type SourceOptions } from './source.js';

/** The bundle of `id` (a head, a fine-tuned model, else a zoo classifier) in `format`; every model loaded for it is freed. */
export async function exportModel(store: ObjectStore | undefined, id: string, format: ExportFormat, options: SourceOptions = {}): Promise<ExportBundle> {
  const source = await openExportSource(store, id, options);
  try {
    return await buildBundle(source, format);
  } finally {
    source.dispose();
  }
}
