import type { APIGatewayProxyEvent } from 'aws-lambda';
import { HeadstartError, InvalidArgumentError } from '../../src/errors.js';
import { EmptyBodyError, MalformedBodyError, PayloadTooLargeError, TooManyImagesError, UnsupportedMediaTypeError } from './errors.js';
import { header } from '../api/http.js';
import { parseMultipart } from './multipart.js';
import { PREFIX, safePath } from '../../src/layout.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../src/util/json.js';

/** What one request may carry. */
export interface RequestLimits {
  /** Body bytes (after base64 decoding), as API Gateway's 10 MB payload limit. @default 10 MiB */
  maxBodyBytes: number;
  /** Images per request. @default 32 */
  maxImages: number;
  /** Bytes of one bucket object named by `key` (big images come that way, so above the body limit). @default 50 MiB */
  maxObjectBytes: number;
}

export const DEFAULT_LIMITS: RequestLimits = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxImages: 32,
  maxObjectBytes: 50 * 1024 * 1024,
};

/** The bucket prefix a `key` may name: uploads, never weights, heads or jobs. */
const IMAGES_PREFIX = PREFIX.images;

/** One image of a request: its bytes, a bucket key to read them from, or why its entry is unusable. */
export type ImageSource =
  | { name: string | number; bytes: Uint8Array }
  | { name: string | number; key: string }
  | { name: string | number; error: HeadstartError };

export interface RequestImages {
  sources: ImageSource[];
  /** Sent as a batch (`images`, multipart): answered 200 with per-image results even when some fail. */
  batch: boolean;
  /** `minConfidence` of a JSON body, unparsed (parseMinConfidence checks it). */
  minConfidence?: unknown;
}

/**
 * The images of a POST /classify or POST /features request, from any of its accepted forms:
 * raw bytes (`image/*`, `application/octet-stream`), JSON `{ image }`, `{ key }` or `{ images: [...] }`,
 * or multipart/form-data files. A bad entry of a batch becomes that entry's error, not the request's.
 */
export async function readRequestImages(event: APIGatewayProxyEvent, limits: RequestLimits): Promise<RequestImages> {
  const body = rawBody(event, limits.maxBodyBytes);
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';')[0]!.trim().toLowerCase() ?? '';
  let images: RequestImages;
  if (mediaType.startsWith('image/') || mediaType === 'application/octet-stream') {
    images = { sources: [{ name: 0, bytes: body }], batch: false };
  } else if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    images = fromJson(body);
  } else if (mediaType === 'multipart/form-data') {
    const files = await parseMultipart(body, contentType!);
    if (files.length === 0) throw new EmptyBodyError('the multipart body has no file parts (use -F image=@photo.jpg)');
    images = { sources: files.map((f) => ({ name: f.name, bytes: f.bytes })), batch: true };
  } else {
    throw new UnsupportedMediaTypeError(contentType);
  }
  if (images.sources.length > limits.maxImages) throw new TooManyImagesError(images.sources.length, limits.maxImages);
  return images;
}

/** The body as bytes, refused before decoding when the base64 text alone shows it is too big. */
function rawBody(event: APIGatewayProxyEvent, maxBytes: number): Buffer {
  const text = event.body ?? '';
  if (text.length === 0) throw new EmptyBodyError();
  if (event.isBase64Encoded && Math.floor((text.length * 3) / 4) - 2 > maxBytes) {
    throw new PayloadTooLargeError('The request body', Math.floor((text.length * 3) / 4), maxBytes);
  }
  const bytes = Buffer.from(text, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > maxBytes) throw new PayloadTooLargeError('The request body', bytes.length, maxBytes);
  if (bytes.length === 0) throw new EmptyBodyError();
  return bytes;
}

function fromJson(body: Buffer): RequestImages {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new MalformedBodyError('MalformedJson', `The body is not valid JSON: ${(error as Error).message}.`, { cause: error });
  }
  if (exceedsJsonDepth(parsed)) throw new MalformedBodyError('MalformedJson', `The body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep.`);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`The JSON body must be an object with 'image' (base64), 'key' or 'images', got ${kind(parsed)}.`);
  }
  const object = parsed as Record<string, unknown>;
  const options = object.minConfidence === undefined ? {} : { minConfidence: object.minConfidence };
  if ('images' in object) {
    if (!Array.isArray(object.images)) throw new InvalidArgumentError(`'images' must be an array, got ${kind(object.images)}.`);
    if (object.images.length === 0) throw new EmptyBodyError("'images' is an empty array");
    return { sources: object.images.map((entry, i) => fromEntry(entry, i)), batch: true, ...options };
  }
  if (!('image' in object) && !('key' in object)) {
    throw new InvalidArgumentError("The JSON body must have 'image' (base64 bytes), 'key' (an object under images/) or 'images' (an array of either).");
  }
  const single = fromEntry(object, 0);
  if ('error' in single) throw single.error;
  return { sources: [single], batch: false, ...options };
}

/** One image entry: a base64 string, `{ image, name? }` or `{ key }`. Problems stay with the entry. */
function fromEntry(entry: unknown, index: number): ImageSource {
  if (typeof entry === 'string') return fromBase64(entry, index);
  const where = `images[${index}]`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    return { name: index, error: new InvalidArgumentError(`${where} must be a base64 string, { "image": "<base64>" } or { "key": "images/…" }, got ${kind(entry)}.`) };
  }
  const { image, key, name } = entry as Record<string, unknown>;
  if (image !== undefined && key !== undefined) {
    return { name: index, error: new InvalidArgumentError(`Give either 'image' or 'key' for one image, not both (${where}).`) };
  }
  if (key !== undefined) return fromKey(key, index);
  if (typeof image !== 'string') {
    return { name: index, error: new InvalidArgumentError(`'image' must be a base64 string, got ${kind(image)}.`) };
  }
  return fromBase64(image, typeof name === 'string' && name !== '' ? name : index);
}

function fromKey(key: unknown, index: number): ImageSource {
  if (typeof key !== 'string' || !key.startsWith(IMAGES_PREFIX) || key.length === IMAGES_PREFIX.length) {
    return {
      name: typeof key === 'string' ? key : index,
      error: new InvalidArgumentError(`'key' must name an object under ${IMAGES_PREFIX} (e.g. images/uploads/photo.jpg), got ${JSON.stringify(key)}.`),
    };
  }
  try {
    return { name: key, key: safePath(key, 'key') };
  } catch (error) {
    return { name: key, error: error as InvalidArgumentError };
  }
}

// Standard or URL-safe alphabet, optional padding; a data: URL prefix and whitespace are allowed around it.
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const DATA_URL = /^data:[^,]*;base64,/i;

function fromBase64(text: string, name: string | number): ImageSource {
  const compact = text.replace(DATA_URL, '').replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    return { name, error: new MalformedBodyError('InvalidBase64', `Image ${JSON.stringify(name)} is not valid base64 (expected the file's bytes, base64-encoded).`) };
  }
  return { name, bytes: Buffer.from(compact, 'base64') };
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
