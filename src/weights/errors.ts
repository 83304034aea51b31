import { HeadstartError } from '../errors.js';

/** A weights file or folder that cannot be read: not HDF5, no model.json, truncated shards, unknown dtype. */
export class WeightsFormatError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WeightsFormat', message, options);
  }
}

/** Details of the first place where a weights source and a model disagree. */
export interface MismatchDetail {
  layer: string;
  weight?: string;
  expected?: readonly number[] | number;
  actual?: readonly number[] | number;
}

/**
 * Weights that do not fit the model: a missing layer, a different number of weights, or a shape.
 * The message names the first layer (and weight) that does not match, with both shapes.
 */
export class WeightsMismatchError extends HeadstartError {
  readonly layer: string;
  readonly weight: string | undefined;
  readonly expected: readonly number[] | number | undefined;
  readonly actual: readonly number[] | number | undefined;

  constructor(message: string, detail: MismatchDetail, options?: { cause?: unknown }) {
    super('WeightsMismatch', message, options);
    this.layer = detail.layer;
    this.weight = detail.weight;
    this.expected = detail.expected;
    this.actual = detail.actual;
  }
}

/** The official weights are not cached and cannot be downloaded here (no network, HTTP error). */
export class WeightsUnavailableError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WeightsUnavailable', message, options);
  }
}

/** A downloaded file whose hash differs from the one Keras publishes. Nothing is cached. */
export class WeightsIntegrityError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WeightsIntegrity', message, options);
  }
}
