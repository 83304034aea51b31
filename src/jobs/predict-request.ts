import { InvalidArgumentError, listValues } from '../errors.js';
import { datasetPrefix, PREFIX, safePath, validateDatasetName } from '../layout.js';
import type { PredictRequest } from './types.js';

/** A POST /predict body that cannot start a job; the message names the field and its valid values. */
export class InvalidPredictRequestError extends InvalidArgumentError {}

const REQUEST_FIELDS = ['dataset', 'prefix', 'head', 'model', 'top', 'webhook'] as const;

/** Bounds of a prediction request. */
export const PREDICT_LIMITS = { top: 100, webhookLength: 2048 } as const;

function fail(message: string): never {
  throw new InvalidPredictRequestError(message);
}

function optionalString(fields: Record<string, unknown>, field: string): string | undefined {
  const value = fields[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(`'${field}' must be a non-empty string, got ${JSON.stringify(value)}.`);
  return value;
}

/** `images/…`, every segment non-empty and not '.' or '..' (a trailing '/' is allowed: S3 prefix semantics). */
function parsePrefix(prefix: string): string {
  if (!prefix.startsWith(PREFIX.images)) fail(`'prefix' must be under ${PREFIX.images} (e.g. 'images/shop/_unlabelled/'), got ${JSON.stringify(prefix)}.`);
  const inside = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  try {
    safePath(inside, 'prefix');
  } catch (error) {
    fail((error as Error).message);
  }
  return prefix;
}

/** An absolute http or https URL without credentials: the job POSTs its summary there. */
export function parseWebhookUrl(value: string): string {
  if (value.length > PREDICT_LIMITS.webhookLength) fail(`'webhook' is ${value.length} characters long; at most ${PREDICT_LIMITS.webhookLength} are allowed.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`'webhook' must be an absolute http or https URL, got ${JSON.stringify(value)}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`'webhook' must use http or https, got '${url.protocol.slice(0, -1)}' (${JSON.stringify(value)}).`);
  if (url.username || url.password) fail(`'webhook' must not carry credentials in the URL: they would be stored in the job record.`);
  return url.toString();
}

/**
 * Validates a POST /predict body: one of `dataset` / `prefix`, one of `head` / `model`, `top` from 1 to
 * PREDICT_LIMITS.top, `webhook` an http(s) URL. Unknown fields are errors. Returns only the given fields.
 */
export function parsePredictRequest(body: unknown): PredictRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    fail(`The request body must be a JSON object like {"dataset": "shop", "head": "<headId>"}.`);
  }
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(REQUEST_FIELDS as readonly string[]).includes(key)) fail(`Unknown field '${key}': expected ${listValues(REQUEST_FIELDS)}.`);
  }
  const dataset = optionalString(fields, 'dataset');
  const prefix = optionalString(fields, 'prefix');
  if ((dataset === undefined) === (prefix === undefined)) {
    fail(`Give exactly one of 'dataset' (every image under images/<dataset>/) and 'prefix' (every image under a prefix of images/).`);
  }
  const head = optionalString(fields, 'head');
  const model = optionalString(fields, 'model');
  if ((head === undefined) === (model === undefined)) {
    fail(`Give exactly one of 'head' (a published head id: cached features skip the base) and 'model' (a zoo model id or a fine-tuned model id).`);
  }
  const request: PredictRequest = dataset !== undefined ? { dataset: validateDatasetName(dataset) } : { prefix: parsePrefix(prefix!) };
  if (head !== undefined) request.head = head;
  if (model !== undefined) request.model = model;
  if (fields.top !== undefined) {
    const top = fields.top;
    if (typeof top !== 'number' || !Number.isInteger(top) || top < 1 || top > PREDICT_LIMITS.top) fail(`'top' must be an integer from 1 to ${PREDICT_LIMITS.top}, got ${JSON.stringify(top)}.`);
    request.top = top;
  }
  const webhook = optionalString(fields, 'webhook');
  if (webhook !== undefined) request.webhook = parseWebhookUrl(webhook);
  return request;
}

/** The prefix a request covers: `images/<dataset>/` or its own. */
export function predictPrefix(request: PredictRequest): string {
  return request.dataset !== undefined ? datasetPrefix(request.dataset) : request.prefix!;
}
