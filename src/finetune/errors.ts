import { HeadstartError, InvalidArgumentError } from '../errors.js';

/**
 * Errors the fine-tuning core throws on purpose. Bad input extends InvalidArgumentError (4xx at the
 * HTTP boundary, exit code 2 on the CLI); `name` tells the cases apart.
 */

/** A fine-tuning request field is missing, out of range, of the wrong type, or unknown. */
export class FinetuneRequestError extends InvalidArgumentError {}

/** The `unfreeze` spec names no layer or block of the model, or asks for more layers than it has. */
export class UnfreezeSpecError extends InvalidArgumentError {}

/** The head to start from does not fit the base or the dataset (other model, features or labels). */
export class HeadMismatchError extends InvalidArgumentError {}

/** A layer in the trainable part that the fine-tuning step cannot differentiate on this backend. */
export class UnsupportedTrainableLayerError extends InvalidArgumentError {}

/** A checkpoint exists for this job but was written for a different request: resuming would mix two runs. */
export class CheckpointMismatchError extends HeadstartError {
  constructor(jobId: string, detail: string) {
    super('CheckpointMismatch', `Job '${jobId}' has a checkpoint from a different request (${detail}): start a new job, or resume with the original request.`);
  }
}

/** A checkpoint whose files are missing or unreadable. */
export class CorruptCheckpointError extends HeadstartError {
  constructor(jobId: string, detail: string, options?: { cause?: unknown }) {
    super('CorruptCheckpoint', `The checkpoint of job '${jobId}' is damaged: ${detail}. Start a new job.`, options);
  }
}

// The registry's errors for fine-tuned models (one registry for every kind, src/registry).
export { CorruptFinetunedModelError, FinetunedModelNotFoundError, ModelIdTakenError } from '../registry/errors.js';
