import { HeadstartError } from '../errors.js';

/** No published head has this id (never published, deleted, or only a half-written leftover). */
export class HeadNotFoundError extends HeadstartError {
  constructor(readonly headId: string) {
    super('HeadNotFound', `No published head '${headId}': GET /models lists the heads there are.`);
  }
}

/** A published head whose files are missing or do not match its pointer: storage damage, not the caller's fault. */
export class CorruptHeadError extends HeadstartError {
  constructor(headId: string, detail: string, options?: { cause?: unknown }) {
    super('CorruptHead', `Head '${headId}' is damaged: ${detail}. Delete it and train it again.`, options);
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

/** A request names a model id that a published head or fine-tuned model already has. */
export class ModelIdTakenError extends HeadstartError {
  constructor(readonly modelId: string, by: string) {
    super('ModelIdTaken', `Model id '${modelId}' is taken by a published ${by}: choose another 'modelId', or DELETE /models/${modelId} first.`);
  }
}
