import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, with positionals; unknown options become a UsageError. */
export function parse<O extends Options>(args: string[], options: O, { minPositionals = 0 } = {}) {
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (parsed.positionals.length < minPositionals) {
    throw new UsageError(`expected at least ${minPositionals} argument(s), got ${parsed.positionals.length}`);
  }
  return parsed;
}

export function intOption(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${value}'`);
  return n;
}

/** Options every model-running command shares. */
export const modelOptions = {
  model: { type: 'string', short: 'm' },
  backend: { type: 'string' },
  engine: { type: 'string' },
  interpolation: { type: 'string' },
  weights: { type: 'string' },
  verbose: { type: 'boolean' },
  json: { type: 'boolean' },
  batch: { type: 'string' },
  threads: { type: 'string' },
  sessions: { type: 'string' },
  precision: { type: 'string' },
  calibration: { type: 'string' },
} as const satisfies Options;
