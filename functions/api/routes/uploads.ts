import { describeValue, InvalidArgumentError, listValues, unknownFieldsMessage, unknownKeys } from '../../../src/errors.js';
import { imageKey, validateDatasetName } from '../../../src/layout.js';
import type { ApiDeps } from '../deps.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';

const UPLOAD_FIELDS = ['dataset', 'label', 'file', 'contentType'] as const;
/** What the image loader decodes (sharp). */
export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'image/bmp'] as const;
/** A class folder or file name: one path segment, no leading dot (no '.', '..' or hidden files), no control characters. */
const NAME = /^[^./\\\x00-\x1f][^/\\\x00-\x1f]{0,254}$/;

function requireName(body: Record<string, unknown>, field: 'label' | 'file', example: string): string {
  const value = body[field];
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidArgumentError(
      `'${field}' must be one path segment of 1–255 characters without '/', '\\' or a leading '.', e.g. '${example}'; got ${describeValue(value)}.`,
    );
  }
  return value;
}

function parseUpload(body: unknown): { dataset: string; label: string; file: string; contentType?: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidArgumentError('The request body must be a JSON object like {"dataset": "flowers", "label": "rose", "file": "0001.jpg"}.');
  }
  const fields = body as Record<string, unknown>;
  const unknown = unknownKeys(fields, UPLOAD_FIELDS);
  if (unknown.length) throw new InvalidArgumentError(unknownFieldsMessage(unknown, UPLOAD_FIELDS));
  if (typeof fields.dataset !== 'string') throw new InvalidArgumentError(`'dataset' is required: the dataset the image belongs to, e.g. 'flowers'.`);
  const upload = { dataset: validateDatasetName(fields.dataset), label: requireName(fields, 'label', 'rose'), file: requireName(fields, 'file', '0001.jpg') };
  const { contentType } = fields;
  if (contentType === undefined) return upload;
  if (typeof contentType !== 'string' || !(IMAGE_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new InvalidArgumentError(`Unsupported contentType ${describeValue(contentType)}: expected ${listValues(IMAGE_CONTENT_TYPES)}.`);
  }
  return { ...upload, contentType };
}

/**
 * POST /uploads: a presigned PUT URL for `images/<dataset>/<label>/<file>`, for images too big for an API
 * request. Uploading to it triggers extraction like any other upload. `_unlabelled` is a valid label
 * (images meant for classification only).
 */
export function uploadRoutes(deps: ApiDeps): Route[] {
  const expiresIn = deps.uploadTtlSeconds ?? 900;
  async function presign(request: ApiRequest): Promise<ApiResponse> {
    const { dataset, label, file, contentType } = parseUpload(request.json());
    const key = imageKey(dataset, label, file);
    const url = await deps.uploads.presignPut(key, { contentType, expiresIn });
    const expiresAt = new Date(Date.now() + expiresIn * 1000).toISOString();
    return { statusCode: 200, body: { key, url, method: 'PUT', headers: contentType ? { 'content-type': contentType } : {}, expiresIn, expiresAt } };
  }
  return [{ method: 'POST', path: '/uploads', handler: presign }];
}
