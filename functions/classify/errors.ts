import { HeadstartError, InvalidArgumentError, listValues } from '../../src/errors.js';
import { namespaceId, precisionOf, type FeatureNamespace } from '../../src/features/namespace.js';

/**
 * Errors of the classify HTTP edge. Each has a stable `code`; functions/api/errors.ts maps codes to statuses.
 * Image errors (EmptyImage, NotAnImage, CorruptImage, ImageTooLarge, ...) come from src/image unchanged.
 */

/** The Content-Types POST /classify and POST /features read. */
export const ACCEPTED_CONTENT_TYPES = ['image/*', 'application/octet-stream', 'application/json', 'multipart/form-data'] as const;

/** Over API Gateway's payload limit: the way round it is a presigned upload and `{ "key" }`. */
export class PayloadTooLargeError extends HeadstartError {
  constructor(what: string, bytes: number, limit: number) {
    super(
      'PayloadTooLarge',
      `${what} is ${bytes} bytes, over the ${limit}-byte limit of a request. Upload big images with a presigned URL ` +
        `(POST /uploads → PUT the file to the URL it returns), then POST /classify with JSON { "key": "images/…" }.`,
    );
  }
}

/** A bucket object named by `key` that is bigger than one image should be. */
export class ObjectTooLargeError extends HeadstartError {
  constructor(key: string, limit: number) {
    super('ObjectTooLarge', `Object '${key}' is over the ${limit}-byte limit for one image; resize it before uploading.`);
  }
}

export class UnsupportedMediaTypeError extends HeadstartError {
  constructor(contentType: string | undefined) {
    super(
      'UnsupportedMediaType',
      `${contentType ? `Content-Type '${contentType}' is not accepted` : 'The request has no Content-Type'}: ` +
        `send ${listValues(ACCEPTED_CONTENT_TYPES)} (e.g. curl -H 'Content-Type: image/jpeg' --data-binary @photo.jpg).`,
    );
  }
}

/** A body that does not parse as what its Content-Type says (JSON syntax, multipart framing, base64). */
export class MalformedBodyError extends HeadstartError {
  constructor(code: 'MalformedJson' | 'MalformedMultipart' | 'InvalidBase64', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** No body at all, or a JSON/multipart body that names no image. */
export class EmptyBodyError extends HeadstartError {
  constructor(detail = 'the request body is empty') {
    super('EmptyBody', `No image to classify: ${detail}. Send the image bytes, JSON { "image": "<base64>" } or { "key": "images/…" }.`);
  }
}

export class TooManyImagesError extends InvalidArgumentError {
  constructor(count: number, max: number) {
    super(`The request holds ${count} images; at most ${max} are classified per request. Split it into several requests.`);
  }
}

/**
 * A head trained on features of another base (other weights, layer or pooling): its numbers would be
 * meaningless on this service's features. 409: the head exists, but does not fit the service as deployed.
 */
export class HeadBaseMismatchError extends HeadstartError {
  constructor(headId: string, head: FeatureNamespace, service: FeatureNamespace) {
    const [trained, served] = [precisionOf(head), precisionOf(service)];
    super(
      'HeadBaseMismatch',
      trained !== served
        ? `Head '${headId}' was trained on ${trained} features (${describe(head)}), but this service extracts ${served} features ` +
            `(${describe(service)}); ${trained} and ${served} features are never mixed. Retrain the head on this service's features, ` +
            `or run the service with HEADSTART_PRECISION=${trained}.`
        : `Head '${headId}' was trained on features from ${describe(head)}, but this service extracts ${describe(service)}. ` +
            'Retrain the head on this service, or deploy the weights it was trained with.',
    );
  }
}

function describe(ns: FeatureNamespace): string {
  return `${namespaceId(ns)}${ns.pooling ? ` (pooling ${ns.pooling})` : ''}`;
}

/** `?model=` names neither a zoo model nor a published fine-tuned model. */
export class ModelNotFoundError extends HeadstartError {
  constructor(model: string, zoo: readonly string[], options?: { cause?: unknown }) {
    super('ModelNotFound', `Unknown model '${model}': expected ${listValues(zoo)}, or the id of a published fine-tuned model (GET /models lists them).`, options);
  }
}
