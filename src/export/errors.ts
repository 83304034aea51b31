import { HeadstartError, listValues } from '../errors.js';

/** The id to export is no published head, no published fine-tuned model and no zoo classifier (404). */
export class ExportModelNotFoundError extends HeadstartError {
  constructor(id: string, zoo: readonly string[], options?: { cause?: unknown }) {
    super('ModelNotFound', `Nothing to export under '${id}': expected the id of a published head or fine-tuned model (GET /models lists them), or an ImageNet classifier: ${listValues(zoo)}.`, options);
  }
}

/**
 * The base weights here are not the ones a head was trained on: an export would pair the head with other
 * features than it learnt (409; the code is the classify routes' for the same conflict).
 */
export class ExportBaseMismatchError extends HeadstartError {
  constructor(headId: string, wanted: string, found: string) {
    super(
      'HeadBaseMismatch',
      `Head '${headId}' was trained on ${wanted} features, but this service's weights are ${found}: export it where those weights are (headstart weights import|pull), or retrain the head.`,
    );
  }
}

/** The model was republished (or its weights replaced) while its bundle was built: nothing was stored (409; ask again). */
export class ExportChangedError extends HeadstartError {
  constructor(id: string) {
    super('ExportChanged', `'${id}' changed while its export was built; nothing was stored: request the export again.`);
  }
}
