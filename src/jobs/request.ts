import { describeValue, InvalidArgumentError, listValues, unknownFieldsMessage, unknownKeys } from '../errors.js';
import { validateDatasetName } from '../layout.js';
import { resolveHeadSpec } from '../heads/spec.js';
import { isAutoSpec, resolveAutoSpec } from '../heads/auto/spec.js';
import type { HeadSpec } from '../heads/types.js';
import { MODEL_IDS } from '../zoo/types.js';
import { backendHeap, formatBytes, plannedTrainingBackend } from './memory.js';
import type { TrainRequest } from './types.js';

/** A POST /train body that cannot start a job; the message names the field and its valid values. */
export class InvalidTrainRequestError extends InvalidArgumentError {}

const REQUEST_FIELDS = ['dataset', 'validationDataset', 'model', 'namespace', 'head'] as const;

/**
 * Upper bounds the API puts on a head so one request cannot ask a function for hours or gigabytes.
 * The core (resolveHeadSpec) checks types and lower bounds.
 */
export const HEAD_LIMITS = { hiddenLayers: 8, units: 8192, epochs: 1000, batchSize: 65536, patience: 1000 } as const;

function fail(message: string): never {
  throw new InvalidTrainRequestError(message);
}

function checkString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(`'${field}' must be a non-empty string, got ${describeValue(value)}.`);
  return value;
}

/**
 * Refuses a head whose hidden layers alone cannot train in the heap of the backend that will run them (the
 * wasm backend's 4 GiB, whatever the machine's RAM), before a job is queued: eight layers of 8,192 units
 * pass the per-field bounds but hold 470 M parameters. A lower bound: the feature width and the classes add
 * to it, and the job checks the whole run against the heap before loading data.
 */
function checkHeadFitsHeap(hidden: readonly number[], backend: string = plannedTrainingBackend()): void {
  const heap = backendHeap(backend);
  if (heap === undefined || hidden.length < 2) return;
  let params = 0;
  for (let i = 1; i < hidden.length; i++) params += hidden[i - 1]! * hidden[i]! + hidden[i]!;
  const bytes = params * heap.perParam;
  if (bytes <= heap.bytes) return;
  fail(
    `head.hidden [${hidden.join(', ')}] has ${params.toLocaleString('en-US')} parameters between its hidden layers alone; training them takes about ` +
      `${formatBytes(bytes)} of heap (${heap.perParam} bytes per parameter, measured), more than the ${formatBytes(heap.bytes)} heap of TF.js's ${backend} backend ` +
      `that trains heads here: use fewer or narrower hidden layers (a head on cached features rarely needs more than one or two of a few hundred units).`,
  );
}

function checkLimits(head: Record<string, unknown>): void {
  const { hidden, epochs, batchSize, patience } = head;
  if (Array.isArray(hidden)) {
    if (hidden.length > HEAD_LIMITS.hiddenLayers) fail(`head.hidden has ${hidden.length} layers; at most ${HEAD_LIMITS.hiddenLayers} are allowed.`);
    const wide = hidden.find((u) => typeof u === 'number' && u > HEAD_LIMITS.units);
    if (wide !== undefined) fail(`head.hidden units must be from 1 to ${HEAD_LIMITS.units}, got ${wide}.`);
    if (hidden.every((u) => Number.isInteger(u) && u > 0)) checkHeadFitsHeap(hidden as number[]);
  }
  const bounded: Array<[string, unknown, number]> = [
    ['epochs', epochs, HEAD_LIMITS.epochs],
    ['batchSize', batchSize, HEAD_LIMITS.batchSize],
    ['patience', patience, HEAD_LIMITS.patience],
  ];
  for (const [field, value, max] of bounded) {
    if (typeof value === 'number' && value > max) fail(`head.${field} must be at most ${max}, got ${value}.`);
  }
}

function parseHead(value: unknown): TrainRequest['head'] {
  if (value === undefined) return undefined;
  if (isAutoSpec(value)) {
    try {
      resolveAutoSpec(value);
    } catch (error) {
      fail(`head: ${(error as Error).message}`);
    }
    return value;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(`'head' must be "auto" or an object of head settings, got ${describeValue(value)}.`);
  }
  const head = value as Record<string, unknown>;
  checkLimits(head);
  try {
    resolveHeadSpec(head as HeadSpec);
  } catch (error) {
    fail(`head: ${(error as Error).message}`);
  }
  return head as HeadSpec;
}

/**
 * Validates a POST /train body: `dataset` required, the optional fields typed, the head spec in range.
 * Unknown fields are errors (a typo must not silently train with a default). Returns only the given fields.
 */
export function parseTrainRequest(body: unknown): TrainRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    fail(`The request body must be a JSON object like {"dataset": "flowers", "head": {"epochs": 20}}.`);
  }
  const fields = body as Record<string, unknown>;
  const unknown = unknownKeys(fields, REQUEST_FIELDS);
  if (unknown.length) fail(unknownFieldsMessage(unknown, REQUEST_FIELDS));
  const dataset = checkString(fields, 'dataset');
  if (dataset === undefined) fail(`'dataset' is required: the name of a dataset under images/<dataset>/<label>/.`);
  const request: TrainRequest = { dataset: validateDatasetName(dataset) };
  const validationDataset = checkString(fields, 'validationDataset');
  if (validationDataset !== undefined) {
    if (validationDataset === dataset) fail(`'validationDataset' must differ from 'dataset' ('${dataset}'): held-out data is other images.`);
    request.validationDataset = validateDatasetName(validationDataset);
  }
  const model = checkString(fields, 'model');
  if (model !== undefined) {
    if (!(MODEL_IDS as readonly string[]).includes(model)) fail(`Unknown model '${model}': expected ${listValues(MODEL_IDS)}.`);
    request.model = model;
  }
  const namespace = checkString(fields, 'namespace');
  if (namespace !== undefined) request.namespace = namespace;
  const head = parseHead(fields.head);
  if (head !== undefined) request.head = head;
  return request;
}
