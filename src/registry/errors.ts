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
