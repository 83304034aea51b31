import { parsePrecision, type EngineName } from '../../engine/extractor.js';
import { InvalidArgumentError, listValues } from '../../errors.js';
export { calibrationImages } from '../../features/calibration.js';
import type { FeatureCut, PipelineOptions } from '../../features/pipeline.js';
import type { Interpolation } from '../../zoo/types.js';
import { intOption } from '../args.js';
import { UsageError } from '../io.js';

const INTERPOLATIONS: Interpolation[] = ['nearest', 'bilinear', 'bicubic', 'lanczos'];
const ENGINES = ['onnx', 'tfjs', 'auto'];

interface ModelFlags {
  model?: string;
  backend?: string;
  engine?: string;
  interpolation?: string;
  weights?: string;
  batch?: string;
  threads?: string;
  sessions?: string;
  precision?: string;
}

/** Turns the shared model flags into pipeline options, validating each with the valid values in the message. */
export function pipelineOptions(values: ModelFlags): Omit<PipelineOptions, 'cut'> {
  const model = values.model ?? process.env.HEADSTART_MODEL;
  if (!model) throw new UsageError('--model is required (or set HEADSTART_MODEL); see `headstart models`');
  if (values.interpolation && !INTERPOLATIONS.includes(values.interpolation as Interpolation)) {
    throw new InvalidArgumentError(`Unknown interpolation '${values.interpolation}': expected ${listValues(INTERPOLATIONS)}.`);
  }
  if (values.engine && !ENGINES.includes(values.engine)) {
    throw new InvalidArgumentError(`Unknown engine '${values.engine}': expected ${listValues(ENGINES)}.`);
  }
  return {
    model,
    backend: values.backend,
    engine: values.engine as EngineName | 'auto' | undefined,
    interpolation: values.interpolation as Interpolation | undefined,
    weights: values.weights === 'random' ? null : values.weights,
    batchSize: intOption(values.batch, 'batch', 8),
    threads: values.threads === undefined ? undefined : intOption(values.threads, 'threads', 1),
    sessions: values.sessions === undefined ? undefined : intOption(values.sessions, 'sessions', 1),
    ...(values.precision !== undefined ? { precision: parsePrecision(values.precision) } : {}),
  };
}

/** Checks a flag against its valid values, naming them in the error. */
export function oneOf<T extends string>(value: string, valid: readonly T[], name: string): T {
  if (!valid.includes(value as T)) throw new InvalidArgumentError(`Unknown ${name} '${value}': expected ${listValues(valid)}.`);
  return value as T;
}

/** `--layer L` or `--pooling avg|max` (not both) as a pipeline cut; neither means the model's default layer. */
export function cutOption(values: { layer?: string; pooling?: string }): FeatureCut | undefined {
  if (values.layer && values.pooling) throw new UsageError('give --layer or --pooling, not both');
  if (values.layer) return { layer: values.layer };
  if (values.pooling) return { pooling: oneOf(values.pooling, ['avg', 'max'] as const, 'pooling') };
  return undefined;
}
