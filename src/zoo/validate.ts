import { existsSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, listValues } from '../errors.js';
import type { ModelSpec, Pooling, ZooOptions } from './types.js';

/** A TF.js activation identifier, as `tf.layers.dense` takes it. */
export type ActivationName = NonNullable<NonNullable<Parameters<typeof tf.layers.dense>[0]>['activation']>;

/** The activations TF.js layers knows (tfjs-layers `ActivationIdentifier`). */
export const CLASSIFIER_ACTIVATIONS = [
  'softmax',
  'linear',
  'sigmoid',
  'relu',
  'relu6',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'tanh',
  'hardSigmoid',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const satisfies readonly ActivationName[];

/** `ZooOptions` after Keras' defaults and checks: what a builder needs, nothing optional. */
export interface ResolvedZooOptions {
  includeTop: boolean;
  /** 'imagenet', a path that exists, or null. */
  weights: string | null;
  /** [height, width, channels]; height and width are null when the model takes any size (no top). */
  inputShape: [number | null, number | null, number];
  /** Ignored with the top, as in Keras. */
  pooling: Pooling | null;
  classes: number;
  /** A TF.js activation; Keras' `None` (logits) is 'linear'. */
  classifierActivation: ActivationName;
  /** Keras' `default_size`: `spec.inputSize`, or MobileNetV2's square input size when weights exist for it. */
  defaultSize: number;
}

const OPTION_KEYS = ['includeTop', 'weights', 'inputShape', 'pooling', 'classes', 'classifierActivation'] as const;
const POOLINGS = ['avg', 'max'] as const;
const DEFAULT_MIN_INPUT_SIZE = 32;

/**
 * Applies Keras Applications' argument rules (`obtain_input_shape`, `validate_activation` and each
 * builder's own checks) with Keras' messages, camel-cased. Throws InvalidArgumentError.
 * Like Keras, a custom `inputShape` with the top is refused only for 'imagenet' weights (whose
 * classifier fixes the size); with random weights any static shape builds.
 */
export function validateZooOptions(spec: ModelSpec, options: ZooOptions = {}): ResolvedZooOptions {
  rejectUnknownKeys(options);
  const includeTop = resolveIncludeTop(options.includeTop);
  const weights = resolveWeights(options.weights);
  const classes = resolveClasses(options.classes);
  if (weights === 'imagenet' && includeTop && classes !== 1000) {
    throw new InvalidArgumentError(
      `If using \`weights='imagenet'\` with \`includeTop: true\`, \`classes\` should be 1000.  Received classes=${classes}`,
    );
  }
  const pooling = resolvePooling(options.pooling);
  const defaultSize = defaultSizeFor(spec, options.inputShape);
  const inputShape = obtainInputShape(options.inputShape, {
    defaultSize,
    minSize: spec.minInputSize ?? DEFAULT_MIN_INPUT_SIZE,
    requireFlatten: includeTop,
    weights,
  });
  const classifierActivation = resolveActivation(options.classifierActivation, includeTop ? weights : null);
  return { includeTop, weights, inputShape, pooling, classes, classifierActivation, defaultSize };
}

function rejectUnknownKeys(options: ZooOptions): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(`Model options must be an object; Received: ${String(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => !(OPTION_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`Unknown model option '${unknown[0]}': expected ${listValues(OPTION_KEYS)}.`);
  }
}

function resolveIncludeTop(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`\`includeTop\` must be true or false; Received: includeTop=${String(value)}`);
  return value;
}

function resolveWeights(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  // Keras accepts a path only if it exists (file_utils.exists); a TF.js folder counts as a path.
  if (value === 'imagenet' || (typeof value === 'string' && value !== '' && existsSync(value))) return value;
  throw new InvalidArgumentError(
    "The `weights` argument should be either `null` (random initialization), 'imagenet' (pre-training on ImageNet), " +
      `or the path to the weights file to be loaded.  Received: weights=${String(value)}`,
  );
}

function resolveClasses(value: unknown): number {
  if (value === undefined) return 1000;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`\`classes\` must be a positive integer; Received: classes=${String(value)}`);
  }
  return value;
}

function resolvePooling(value: unknown): Pooling | null {
  if (value === undefined || value === null) return null;
  if ((POOLINGS as readonly unknown[]).includes(value)) return value as Pooling;
  throw new InvalidArgumentError(`Unknown pooling '${String(value)}': expected ${listValues([...POOLINGS, null])}.`);
}

/** MobileNetV2's rule: a square input of a size that has weights is the default size; else the spec's. */
function defaultSizeFor(spec: ModelSpec, inputShape: ZooOptions['inputShape']): number {
  if (!spec.weightInputSizes || !Array.isArray(inputShape)) return spec.inputSize;
  const [rows, cols] = inputShape;
  return rows === cols && typeof rows === 'number' && spec.weightInputSizes.includes(rows) ? rows : spec.inputSize;
}

interface InputShapeRules {
  defaultSize: number;
  minSize: number;
  requireFlatten: boolean;
  weights: string | null;
}

/** Keras `imagenet_utils.obtain_input_shape`, channels-last. */
function obtainInputShape(
  inputShape: ZooOptions['inputShape'],
  { defaultSize, minSize, requireFlatten, weights }: InputShapeRules,
): [number | null, number | null, number] {
  if (inputShape !== undefined && inputShape !== null) assertShapeTriple(inputShape);
  const given = inputShape ?? undefined;
  const channels = weights !== 'imagenet' && given ? given[2] : 3;
  const defaultShape: [number, number, number] = [defaultSize, defaultSize, channels];
  if (weights === 'imagenet' && requireFlatten) {
    if (given && !sameShape(given, defaultShape)) {
      throw new InvalidArgumentError(
        'When setting `includeTop: true` and loading `imagenet` weights, ' +
          `\`inputShape\` should be ${formatShape(defaultShape)}.  Received: inputShape=${formatShape(given)}`,
      );
    }
    return defaultShape;
  }
  if (given) {
    if (given[2] !== 3 && weights === 'imagenet') {
      throw new InvalidArgumentError(`The input must have 3 channels; Received \`inputShape=${formatShape(given)}\``);
    }
    if ((given[0] !== null && given[0] < minSize) || (given[1] !== null && given[1] < minSize)) {
      throw new InvalidArgumentError(`Input size must be at least ${minSize}x${minSize}; Received: inputShape=${formatShape(given)}`);
    }
  }
  const shape: [number | null, number | null, number] = given ? [...given] : requireFlatten ? defaultShape : [null, null, 3];
  if (requireFlatten && (shape[0] === null || shape[1] === null)) {
    throw new InvalidArgumentError(
      `If \`includeTop\` is true, you should specify a static \`inputShape\`. Received: inputShape=${formatShape(shape)}`,
    );
  }
  return shape;
}

function assertShapeTriple(shape: unknown): asserts shape is [number | null, number | null, number] {
  const isDim = (d: unknown) => typeof d === 'number' && Number.isInteger(d) && d > 0;
  const ok =
    Array.isArray(shape) && shape.length === 3 && (shape[0] === null || isDim(shape[0])) && (shape[1] === null || isDim(shape[1])) && isDim(shape[2]);
  if (!ok) {
    throw new InvalidArgumentError(
      `\`inputShape\` must be a tuple of three integers ([height, width, channels]; height and width may be null). Received: inputShape=${
        Array.isArray(shape) ? formatShape(shape) : String(shape)
      }`,
    );
  }
}

function resolveActivation(value: unknown, pretrained: string | null): ActivationName {
  if (value !== undefined && value !== null && !(CLASSIFIER_ACTIVATIONS as readonly unknown[]).includes(value)) {
    throw new InvalidArgumentError(`Unknown classifierActivation '${String(value)}': expected ${listValues([...CLASSIFIER_ACTIVATIONS, null])}.`);
  }
  const activation: ActivationName = value === undefined ? 'softmax' : value === null ? 'linear' : (value as ActivationName);
  // Keras `validate_activation`: pretrained classifiers were trained for softmax; None (linear) gives their logits.
  if (pretrained !== null && activation !== 'softmax' && activation !== 'linear') {
    throw new InvalidArgumentError(
      'Only `null` and `softmax` activations are allowed for the `classifierActivation` argument when using ' +
        `pretrained weights, with \`includeTop: true\`; Received: classifierActivation=${activation}`,
    );
  }
  return activation;
}

function sameShape(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: readonly unknown[]): string {
  return `[${shape.map((d) => String(d)).join(', ')}]`;
}
