import sharp from 'sharp';
import { PREFIX, thumbnailKey } from '../../../src/layout.js';
import type { ObjectStore } from '../../../src/store/index.js';
import { HttpError } from '../errors.js';
import type { ApiRequest, ApiResponse } from '../http.js';
import type { Route } from '../router.js';

/** Where thumbnails are cached: `thumbnails/<size>/<key under images/>.jpg` (src/layout.ts thumbnailKey). */
export const THUMBNAILS_PREFIX = PREFIX.thumbnails;
const IMAGES_PREFIX = PREFIX.images;
export const THUMBNAIL_SIZES = { min: 32, max: 512, default: 160 } as const;
/** The source image's etag the cached thumbnail was made from: a re-upload makes a new one. */
const SOURCE_ETAG = 'source-etag';
/** A key segment: not empty, not '.' or '..', no backslash or control characters. */
const SEGMENT = /^(?!\.{1,2}$)[^\\\x00-\x1f]+$/;

/** The image key asked for; anything outside images/ (or a path trick to get there) is a 400. */
export function thumbnailSourceKey(value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new HttpError('InvalidArgument', `'key' is required: an image key under ${IMAGES_PREFIX}, e.g. 'images/flowers/rose/0001.jpg'.`);
  }
  const segments = value.split('/');
  if (!value.startsWith(IMAGES_PREFIX) || segments.length < 2 || !segments.slice(1).every((s) => SEGMENT.test(s))) {
    throw new HttpError('InvalidArgument', `'key' must be an image key under ${IMAGES_PREFIX} without '.', '..' or empty segments, got ${JSON.stringify(value)}.`);
  }
  return value;
}

function thumbnailSize(value: string | undefined): number {
  if (value === undefined) return THUMBNAIL_SIZES.default;
  const size = Number(value);
  if (!Number.isInteger(size) || size < THUMBNAIL_SIZES.min || size > THUMBNAIL_SIZES.max) {
    throw new HttpError('InvalidArgument', `'size' must be an integer from ${THUMBNAIL_SIZES.min} to ${THUMBNAIL_SIZES.max} (pixels, the longer side), got ${JSON.stringify(value)}.`);
  }
  return size;
}

async function render(bytes: Buffer, size: number, key: string): Promise<Buffer> {
  try {
    return await sharp(bytes, { failOn: 'error' })
      .rotate()
      .resize(size, size, { fit: 'inside' })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 80, mozjpeg: true })
      .toBuffer();
  } catch (error) {
    throw Object.assign(new HttpError('NotAnImage', `'${key}' cannot be decoded as an image (${(error as Error).message}).`), { cause: error });
  }
}

/**
 * GET /thumbnails?key=images/…&size=160: a small JPEG (longer side `size`) of any image under images/,
 * made with sharp on first request and cached under thumbnails/ with the source's etag, so a re-upload
 * is thumbnailed again. Nothing outside images/ is reachable (400); a missing image is 404.
 */
export function thumbnailRoutes(deps: { store: ObjectStore }): Route[] {
  async function thumbnail(request: ApiRequest): Promise<ApiResponse> {
    const key = thumbnailSourceKey(request.query.key);
    const size = thumbnailSize(request.query.size);
    const source = await deps.store.head(key);
    if (!source) throw new HttpError('ImageNotFound', `No image '${key}' in the bucket.`);
    const cacheKey = thumbnailKey(key, size);
    const headers = { 'content-type': 'image/jpeg', 'cache-control': 'private, max-age=300' };
    const cached = await deps.store.head(cacheKey);
    if (cached && source.etag && cached.metadata?.[SOURCE_ETAG] === source.etag) {
      return { statusCode: 200, headers: { ...headers, 'x-thumbnail-cache': 'hit' }, body: await deps.store.get(cacheKey) };
    }
    const jpeg = await render(await deps.store.get(key), size, key);
    await deps.store.put(cacheKey, jpeg, { contentType: 'image/jpeg', metadata: source.etag ? { [SOURCE_ETAG]: source.etag } : {} });
    return { statusCode: 200, headers: { ...headers, 'x-thumbnail-cache': 'miss' }, body: jpeg };
  }
  return [{ method: 'GET', path: '/thumbnails', handler: thumbnail }];
}
