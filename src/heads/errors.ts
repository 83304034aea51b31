import { HeadstartError, InvalidArgumentError } from '../errors.js';

/**
 * Errors the heads core throws on purpose. Bad input (spec, data, a model file) extends
 * InvalidArgumentError, so the HTTP boundary answers 4xx; `name` tells the cases apart.
 */

/** A HeadSpec field is out of range, of the wrong type, or unknown. */
export class HeadSpecError extends InvalidArgumentError {}

/** No rows to train or evaluate on. */
export class EmptyDataError extends InvalidArgumentError {}

/** Fewer than two distinct labels: a classifier needs something to tell apart. */
export class InsufficientLabelsError extends InvalidArgumentError {}

/** A label has too few examples to appear on both sides of a stratified validation split. */
export class InsufficientExamplesError extends InvalidArgumentError {}

/** Feature length, `dim` or row counts disagree (with each other, the labels, or the model). */
export class DimensionMismatchError extends InvalidArgumentError {}

/** A feature value is NaN or infinite: usually a broken extraction, never something to train on. */
export class NonFiniteFeatureError extends InvalidArgumentError {}

/** A label (in validation or evaluation data, or a class-weight key) that the head does not know. */
export class UnknownLabelError extends InvalidArgumentError {}

/** A serialized head that cannot be read back (missing topology, truncated weights). */
export class InvalidHeadModelError extends InvalidArgumentError {}

/** Training stopped because the caller's AbortSignal fired; `cause` is the signal's reason. */
export class TrainingAbortedError extends HeadstartError {
  constructor(message = 'Training was aborted.', options?: { cause?: unknown }) {
    super('TrainingAborted', message, options);
  }
}

/** The training loss became NaN or infinite (Keras' TerminateOnNaN): the weights are unusable. */
export class TrainingDivergedError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TrainingDiverged', message, options);
  }
}
