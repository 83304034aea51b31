import { parseExportFormat, storedExport } from '../../../src/export/index.js';
import type { ObjectStore } from '../../../src/store/index.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';
import { downloadAnswer, type DownloadSigner } from '../uploads.js';

/** Lifetime of a presigned export URL: long enough to start a 30 MB download, short enough not to be a share link. */
export const EXPORT_URL_TTL_SECONDS = 900;

export interface ExportDeps {
  store: ObjectStore;
  /** The weights cache ($HEADSTART_HOME) the bases load from (filled from the bucket's weights/ when it lacks them). */
  home?: string;
  /**
   * Presigns GETs of the stored bundle (the classify function and `headstart dev`): the answer is a redirect to it
   * (or its URL as JSON). Without one (a store no client can reach, as in tests), the zip is the response body.
   */
  signer?: DownloadSigner;
  /** @default EXPORT_URL_TTL_SECONDS */
  urlTtlSeconds?: number;
}

/**
 * GET /models/{id}/export?format=onnx|tfjs: the zip bundle of a published head, a fine-tuned model, or a zoo classifier
 * (`id` = 'densenet121', …): one graph from RGB pixels to probabilities, labels.json, parity.json, README.md (src/export).
 * The bundle is built once per model version, format and exporter version and kept under exports/ (src/export/cache.ts);
 * later requests reuse it. A bundle (≈30 MB for DenseNet121) is over what Lambda (6 MB) and API Gateway (10 MB) answer,
 * so with a signer the answer is `303 See Other` with `Location:` a presigned GET of the zip (`curl -L`), or, for
 * `Accept: application/json`, `200 { url, expiresAt, bytes, fileName, cached }`. 400 for a missing or unknown format,
 * 404 ModelNotFound, 409 HeadBaseMismatch when this service's base weights are not the head's, 409 ExportChanged when
 * the model was republished mid-build, 503 WeightsUnavailable. Needs the model-running side (TF.js, the weights): it is
 * served beside POST /classify.
 */
export function exportRoutes(deps: ExportDeps): Route[] {
  const ttl = deps.urlTtlSeconds ?? EXPORT_URL_TTL_SECONDS;
  async function exportBundle(request: ApiRequest): Promise<ApiResponse> {
    const format = parseExportFormat(request.query.format);
    const stored = await storedExport(deps.store, request.params.id!, format, { home: deps.home });
    return downloadAnswer(request, deps.store, deps.signer, {
      key: stored.key,
      fileName: stored.fileName,
      contentType: 'application/zip',
      bytes: stored.bytes,
      ttlSeconds: ttl,
      body: { cached: stored.cached },
      headers: { 'x-headstart-export-cache': stored.cached ? 'hit' : 'miss', 'cache-control': 'no-store' },
    });
  }
  return [{ method: 'GET', path: '/models/{id}/export', handler: exportBundle }];
}

