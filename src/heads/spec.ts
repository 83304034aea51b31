import { describeValue, listValues, unknownFieldsMessage, unknownKeys } from '../errors.js';
import { HeadSpecError } from './errors.js';
import { HEAD_ACTIVATIONS, HEAD_ENGINES, type HeadSpec, type ResolvedHeadSpec } from './types.js';

/**
 * Defaults that train well on 512–4096-d CNN features without tuning: one hidden layer as in the
 * Keras transfer-learning recipe (wider than its 100 because our features are wider), dropout 0.2,
 * Adam 1e-3, early stopping on validation loss with the best weights restored.
 */
export const DEFAULT_HEAD_SPEC: Readonly<ResolvedHeadSpec> = Object.freeze({
  hidden: [256],
  activation: 'relu',
  dropout: 0.2,
  learningRate: 1e-3,
  epochs: 30,
  batchSize: 64,
  validationSplit: 0.2,
  seed: 42,
  patience: 5,
  classWeights: null,
  l2: 0,
  engine: 'auto',
});

const SPEC_KEYS = Object.keys(DEFAULT_HEAD_SPEC) as (keyof HeadSpec)[];

function fail(field: string, expected: string, value: unknown): never {
  throw new HeadSpecError(`HeadSpec.${field} must be ${expected}, got ${describeValue(value)}.`);
}

function isInteger(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

function isFiniteIn(value: unknown, min: number, maxExclusive: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value < maxExclusive;
}

function checkClassWeights(value: unknown): void {
  if (value === null || value === 'balanced') return;
  if (typeof value !== 'object' || Array.isArray(value)) fail('classWeights', "'balanced', null or a map label → weight", value);
  for (const [label, weight] of Object.entries(value as Record<string, unknown>)) {
    if (!isFiniteIn(weight, 0, Infinity)) fail(`classWeights['${label}']`, 'a finite number ≥ 0', weight);
  }
}

/** Validates a spec and fills in the defaults. Unknown keys are errors: a typo must not silently train with a default. */
export function resolveHeadSpec(spec: HeadSpec = {}): ResolvedHeadSpec {
  if (spec === null || typeof spec !== 'object') throw new HeadSpecError(`HeadSpec must be an object, got ${String(spec)}.`);
  const unknown = unknownKeys(spec, SPEC_KEYS);
  if (unknown.length) throw new HeadSpecError(unknownFieldsMessage(unknown, SPEC_KEYS, 'HeadSpec field'));
  const s = { ...DEFAULT_HEAD_SPEC, ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) };
  if (!Array.isArray(s.hidden) || !s.hidden.every((u) => isInteger(u, 1))) fail('hidden', 'an array of positive integers', s.hidden);
  if (!HEAD_ACTIVATIONS.includes(s.activation)) {
    throw new HeadSpecError(`Unknown activation '${String(s.activation)}': expected ${listValues(HEAD_ACTIVATIONS)}.`);
  }
  if (!isFiniteIn(s.dropout, 0, 1)) fail('dropout', 'a number with 0 ≤ dropout < 1', s.dropout);
  if (!isFiniteIn(s.learningRate, Number.MIN_VALUE, Infinity)) fail('learningRate', 'a finite number > 0', s.learningRate);
  if (!isInteger(s.epochs, 1)) fail('epochs', 'an integer ≥ 1', s.epochs);
  if (!isInteger(s.batchSize, 1)) fail('batchSize', 'an integer ≥ 1', s.batchSize);
  if (!isFiniteIn(s.validationSplit, 0, 1)) fail('validationSplit', 'a number with 0 ≤ validationSplit < 1', s.validationSplit);
  if (!isInteger(s.seed, 0) || s.seed > 0xffffffff) fail('seed', 'an integer from 0 to 4294967295', s.seed);
  if (!isInteger(s.patience, 0)) fail('patience', 'an integer ≥ 0', s.patience);
  checkClassWeights(s.classWeights);
  if (!isFiniteIn(s.l2, 0, Infinity)) fail('l2', 'a finite number ≥ 0', s.l2);
  if (!HEAD_ENGINES.includes(s.engine)) throw new HeadSpecError(`Unknown engine '${String(s.engine)}': expected ${listValues(HEAD_ENGINES)}.`);
  return { ...s, hidden: [...s.hidden], classWeights: s.classWeights && typeof s.classWeights === 'object' ? { ...s.classWeights } : s.classWeights };
}
