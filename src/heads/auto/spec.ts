import { describeValue, listValues, unknownFieldsMessage, unknownKeys } from '../../errors.js';
import { HeadSpecError } from '../errors.js';
import type { ClassWeights } from '../types.js';
import type { AutoHeadSpec, ResolvedAutoHeadSpec } from './types.js';

export const DEFAULT_AUTO_SPEC: Readonly<ResolvedAutoHeadSpec> = Object.freeze({
  type: 'auto',
  folds: 5,
  seed: 42,
  classWeights: null,
  linearC: [0.001, 0.01, 0.1, 1],
  mlpUnits: [256],
  calibrate: true,
});

const AUTO_KEYS = Object.keys(DEFAULT_AUTO_SPEC) as (keyof AutoHeadSpec)[];

/** True for `"auto"` and `{ type: "auto", … }`: the head spec that selects by cross-validation. */
export function isAutoSpec(spec: unknown): spec is 'auto' | AutoHeadSpec {
  return spec === 'auto' || (typeof spec === 'object' && spec !== null && (spec as { type?: unknown }).type === 'auto');
}

function fail(field: string, expected: string, value: unknown): never {
  throw new HeadSpecError(`head.${field} must be ${expected}, got ${describeValue(value)}.`);
}

function checkClassWeights(value: unknown): ClassWeights {
  if (value === null || value === 'balanced') return value;
  if (typeof value !== 'object' || Array.isArray(value)) fail('classWeights', "'balanced', null or a map label → weight", value);
  for (const [label, weight] of Object.entries(value as Record<string, unknown>)) {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) fail(`classWeights['${label}']`, 'a finite number ≥ 0', weight);
  }
  return { ...(value as Record<string, number>) };
}

/** Validates `"auto"` or `{ type: "auto", … }` and fills in the defaults; unknown fields are errors. */
export function resolveAutoSpec(spec: 'auto' | AutoHeadSpec = 'auto'): ResolvedAutoHeadSpec {
  if (spec === 'auto') return { ...DEFAULT_AUTO_SPEC, linearC: [...DEFAULT_AUTO_SPEC.linearC], mlpUnits: [...DEFAULT_AUTO_SPEC.mlpUnits] };
  const unknown = unknownKeys(spec, AUTO_KEYS);
  if (unknown.length) throw new HeadSpecError(unknownFieldsMessage(unknown, AUTO_KEYS, 'field', ' of an auto head'));
  const s = { ...DEFAULT_AUTO_SPEC, ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) } as ResolvedAutoHeadSpec;
  if (!Number.isInteger(s.folds) || s.folds < 2 || s.folds > 20) fail('folds', 'an integer from 2 to 20', s.folds);
  if (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > 0xffffffff) fail('seed', 'an integer from 0 to 4294967295', s.seed);
  if (!Array.isArray(s.linearC) || !s.linearC.every((c) => typeof c === 'number' && Number.isFinite(c) && c > 0) || s.linearC.length > 20) {
    fail('linearC', 'an array of at most 20 finite numbers > 0', s.linearC);
  }
  if (!Array.isArray(s.mlpUnits) || !s.mlpUnits.every((u) => Number.isInteger(u) && u >= 1 && u <= 8192) || s.mlpUnits.length > 8) {
    fail('mlpUnits', 'an array of at most 8 integers from 1 to 8192', s.mlpUnits);
  }
  if (s.linearC.length + s.mlpUnits.length === 0) fail('linearC', 'non-empty when mlpUnits is empty (something must be a candidate)', s.linearC);
  if (typeof s.calibrate !== 'boolean') fail('calibrate', 'true or false', s.calibrate);
  return { ...s, classWeights: checkClassWeights(s.classWeights), linearC: [...s.linearC].sort((a, b) => a - b), mlpUnits: [...s.mlpUnits] };
}
