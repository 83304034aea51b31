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

/** No published fine-tuned model has this id (never published, or only a half-written leftover). */
export class FinetunedModelNotFoundError extends HeadstartError {
  constructor(readonly modelId: string) {
    super('FinetunedModelNotFound', `No published fine-tuned model '${modelId}'.`);
  }
}

/** A published fine-tuned model whose files are missing or do not match its pointer. */
export class CorruptFinetunedModelError extends HeadstartError {
  constructor(modelId: string, detail: string, options?: { cause?: unknown }) {
    super('CorruptFinetunedModel', `Fine-tuned model '${modelId}' is damaged: ${detail}. Delete it and fine-tune again.`, options);
  }
}

/** A fine-tuning request names a model id that a published head or fine-tuned model already has. */
export class ModelIdTakenError extends HeadstartError {
  constructor(readonly modelId: string, by: 'head' | 'fine-tuned model') {
    super('ModelIdTaken', `Model id '${modelId}' is taken by a published ${by}: choose another 'modelId', or DELETE /models/${modelId} first.`);
  }
}
