import { exportModel, parseExportFormat } from '../../../src/export/index.js';
import type { ObjectStore } from '../../../src/store/index.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';

export interface ExportDeps {
  store: ObjectStore;
  /** The weights cache ($HEADSTART_HOME) the bases load from (filled from the bucket's weights/ when it lacks them). */
  home?: string;
}

/**
 * GET /models/{id}/export?format=onnx|tfjs: the zip bundle (application/zip) of a published head, a fine-tuned model,
 * or a zoo classifier (`id` = 'densenet121', …): one graph from RGB pixels to probabilities, labels.json, parity.json,
 * README.md (src/export). 400 for a missing or unknown format, 404 ModelNotFound, 409 HeadBaseMismatch when this
 * service's base weights are not the head's, 503 WeightsUnavailable. Needs the model-running side (TF.js, the weights):
 * it is served beside POST /classify.
 */
export function exportRoutes(deps: ExportDeps): Route[] {
  async function exportBundle(request: ApiRequest): Promise<ApiResponse> {
    const format = parseExportFormat(request.query.format);
    const bundle = await exportModel(deps.store, request.params.id!, format, { home: deps.home });
    return {
      statusCode: 200,
      body: Buffer.from(bundle.zip.buffer, bundle.zip.byteOffset, bundle.zip.byteLength),
      headers: { 'content-type': 'application/zip', 'content-disposition': `attachment; filename="${bundle.fileName}"`, 'cache-control': 'no-store' },
    };
  }
  return [{ method: 'GET', path: '/models/{id}/export', handler: exportBundle }];
}
