import { describeValue, listValues, unknownFieldsMessage, unknownKeys } from '../errors.js';
import { BaseModelMismatchError } from '../jobs/errors.js';
import { validateDatasetName } from '../layout.js';
import { validateHeadId } from '../registry/keys.js';
import { getModelSpec } from '../zoo/index.js';
import { BASE_LAYER_NAMES } from '../zoo/layer-names.js';
import type { Interpolation, ModelId } from '../zoo/types.js';
import { FinetuneRequestError } from './errors.js';
import { validateFinetunedId } from './keys.js';
import { unfreezeIndex } from './unfreeze.js';
import type { AugmentOptions, FinetuneRequest, ResolvedAugment, ResolvedFinetuneRequest } from './types.js';

/**
 * Defaults that work for the second stage of the Keras transfer-learning recipe: a low Adam rate so
 * the pretrained filters move a little, a few epochs, early stopping on validation loss, small batches
 * (a CNN's activations, not feature vectors, are held for the backward pass).
 */
export const FINETUNE_DEFAULTS = Object.freeze({
  weights: 'imagenet' as const,
  interpolation: 'nearest' as Interpolation,
  epochs: 5,
  batchSize: 8,
  learningRate: 1e-5,
  patience: 2,
  validationSplit: 0.2,
  seed: 42,
  dropout: 0.2,
  hidden: 100,
  cacheFrozen: true,
});

/** The augmentation `augment: true` stands for: mild, label-preserving for most photos. */
export const DEFAULT_AUGMENT: Readonly<ResolvedAugment> = Object.freeze({ flip: true, zoom: 0.1, rotation: 10 });

const FIELDS = [
  'dataset', 'model', 'unfreeze', 'weights', 'fromHead', 'inputSize', 'interpolation', 'epochs', 'batchSize', 'learningRate',
  'patience', 'validationSplit', 'seed', 'dropout', 'hidden', 'augment', 'cacheFrozen', 'modelId',
] as const;
const AUGMENT_FIELDS = ['flip', 'zoom', 'rotation'] as const;
const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic', 'lanczos'];
/** Bounds that keep one request from asking a worker for days. */
const LIMITS = { epochs: 1000, batchSize: 1024, hidden: 8192, inputSize: 1024 } as const;

function fail(field: string, expected: string, value: unknown): never {
  throw new FinetuneRequestError(`'${field}' must be ${expected}, got ${describeValue(value)}.`);
}

const isInteger = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isNumberIn = (v: unknown, min: number, maxExclusive: number): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v < maxExclusive;

function checkUnfreeze(value: unknown): FinetuneRequest['unfreeze'] {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).join() === 'lastN') {
    const { lastN } = value as { lastN: unknown };
    if (isInteger(lastN, 0)) return { lastN };
  }
  return fail('unfreeze', "a layer name, a block prefix such as 'conv5' or 'block5', or { lastN: <integer ≥ 0> }", value);
}

/** `true` → the defaults, `false`/absent → none, an object → checked and completed. */
export function resolveAugment(value: unknown): ResolvedAugment | null {
  if (value === undefined || value === false || value === null) return null;
  if (value === true) return { ...DEFAULT_AUGMENT };
  if (typeof value !== 'object' || Array.isArray(value)) return fail('augment', 'true, false or { flip, zoom, rotation }', value);
  for (const key of Object.keys(value)) {
    if (!(AUGMENT_FIELDS as readonly string[]).includes(key)) {
      throw new FinetuneRequestError(`Unknown augment field '${key}': expected ${listValues(AUGMENT_FIELDS)}.`);
    }
  }
  const a = { ...DEFAULT_AUGMENT, ...(value as AugmentOptions) };
  if (typeof a.flip !== 'boolean') fail('augment.flip', 'true or false', a.flip);
  if (!isNumberIn(a.zoom, 0, 1)) fail('augment.zoom', 'a number with 0 ≤ zoom < 1', a.zoom);
  if (!isNumberIn(a.rotation, 0, 90)) fail('augment.rotation', 'degrees with 0 ≤ rotation < 90', a.rotation);
  return a;
}

function checkInputSize(value: unknown, model: string): number {
  const spec = getModelSpec(model);
  if (value === undefined) return spec.inputSize;
  const min = spec.minInputSize ?? 32;
  if (!isInteger(value, min, LIMITS.inputSize)) fail('inputSize', `an integer from ${min} to ${LIMITS.inputSize} for ${model}`, value);
  return value;
}

/**
 * Validates a fine-tuning request and fills in the defaults. Unknown fields are errors: a typo must not
 * silently train with a default. Throws FinetuneRequestError naming the field and its valid values.
 */
export function resolveFinetuneRequest(request: FinetuneRequest): ResolvedFinetuneRequest {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new FinetuneRequestError(`A fine-tuning request must be an object like { dataset: 'flowers', model: 'densenet121', unfreeze: 'conv5' }.`);
  }
  const unknown = unknownKeys(request, FIELDS);
  if (unknown.length) throw new FinetuneRequestError(unknownFieldsMessage(unknown, FIELDS, 'fine-tuning field'));
  if (typeof request.dataset !== 'string') fail('dataset', 'the name of a dataset under images/<dataset>/<label>/', request.dataset);
  if (typeof request.model !== 'string') fail('model', 'a zoo model id', request.model);
  const spec = getModelSpec(request.model);
  const r = { ...FINETUNE_DEFAULTS, ...Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) } as FinetuneRequest & typeof FINETUNE_DEFAULTS;
  if (r.weights !== null && (typeof r.weights !== 'string' || (r.weights as string) === '')) fail('weights', "'imagenet', a weights path or null", r.weights);
  if (r.fromHead !== undefined) validateHeadId(r.fromHead);
  if (r.modelId !== undefined) validateFinetunedId(r.modelId);
  if (!INTERPOLATIONS.includes(r.interpolation)) {
    throw new FinetuneRequestError(`Unknown interpolation '${String(r.interpolation)}': expected ${listValues(INTERPOLATIONS)}.`);
  }
  if (!isInteger(r.epochs, 1, LIMITS.epochs)) fail('epochs', `an integer from 1 to ${LIMITS.epochs}`, r.epochs);
  if (!isInteger(r.batchSize, 1, LIMITS.batchSize)) fail('batchSize', `an integer from 1 to ${LIMITS.batchSize}`, r.batchSize);
  if (!isNumberIn(r.learningRate, Number.MIN_VALUE, 1)) fail('learningRate', 'a number with 0 < learningRate < 1', r.learningRate);
  if (!isInteger(r.patience, 0, LIMITS.epochs)) fail('patience', 'an integer ≥ 0', r.patience);
  if (!isNumberIn(r.validationSplit, 0, 1)) fail('validationSplit', 'a number with 0 ≤ validationSplit < 1', r.validationSplit);
  if (!isInteger(r.seed, 0, 0xffffffff)) fail('seed', 'an integer from 0 to 4294967295', r.seed);
  if (!isNumberIn(r.dropout, 0, 1)) fail('dropout', 'a number with 0 ≤ dropout < 1', r.dropout);
  if (!isInteger(r.hidden, 1, LIMITS.hidden)) fail('hidden', `an integer from 1 to ${LIMITS.hidden}`, r.hidden);
  if (typeof r.cacheFrozen !== 'boolean') fail('cacheFrozen', 'true or false', r.cacheFrozen);
  return {
    dataset: validateDatasetName(r.dataset),
    model: spec.id,
    unfreeze: checkUnfreeze(r.unfreeze),
    weights: r.weights,
    fromHead: r.fromHead ?? null,
    inputSize: checkInputSize(r.inputSize, spec.id),
    interpolation: r.interpolation,
    epochs: r.epochs,
    batchSize: r.batchSize,
    learningRate: r.learningRate,
    patience: r.patience,
    validationSplit: r.validationSplit,
    seed: r.seed,
    dropout: r.dropout,
    hidden: r.hidden,
    augment: resolveAugment(r.augment),
    cacheFrozen: r.cacheFrozen,
    modelId: r.modelId ?? null,
  };
}

/**
 * The fields `POST /train { "mode": "finetune", … }` takes besides `mode`: the request's, less `weights`
 * (the service fine-tunes from the pretrained weights it serves) and with `model` optional (the service's).
 */
export const FINETUNE_API_FIELDS = FIELDS.filter((f) => f !== 'weights');

/**
 * Validates the fields of a `POST /train` body with `"mode": "finetune"` (`mode` taken off) for a service whose base is `serviceModel`:
 * unknown fields, a `weights` path and another base model are refused; every value is checked as the
 * job will check it (FinetuneRequestError naming the field). Returns the request to record (the given
 * fields plus the service's model) and its resolved form.
 */
export function parseFinetuneBody(body: Record<string, unknown>, serviceModel: string): { request: FinetuneRequest; resolved: ResolvedFinetuneRequest } {
  if ('weights' in body) {
    throw new FinetuneRequestError(
      `'weights' is not taken by POST /train: the service fine-tunes from the pretrained ${serviceModel} weights it serves ` +
        '(`headstart finetune --weights <path>` takes other weights on your own machine).',
    );
  }
  for (const key of Object.keys(body)) {
    if (!(FINETUNE_API_FIELDS as readonly string[]).includes(key)) {
      throw new FinetuneRequestError(`Unknown fine-tuning field '${key}': expected ${listValues(FINETUNE_API_FIELDS)}.`);
    }
  }
  if (body.model !== undefined && body.model !== serviceModel) throw new BaseModelMismatchError('model', String(body.model), serviceModel);
  const request = { ...body, model: serviceModel } as unknown as FinetuneRequest;
  if (request.unfreeze === undefined) {
    throw new FinetuneRequestError(
      "'unfreeze' is required with mode 'finetune': a layer name, a block prefix such as 'conv5' or 'block5', or { \"lastN\": <integer> }.",
    );
  }
  const resolved = resolveFinetuneRequest(request);
  // The layer or block must exist in the base: a typo is a 400 now, not a GPU job that fails after booting.
  unfreezeIndex(BASE_LAYER_NAMES[resolved.model as ModelId], resolved.unfreeze, resolved.model);
  return { request, resolved };
}
