import type { S3EventRecord } from 'aws-lambda';
import type { ObjectStore } from '../../src/store/types.js';
import { isTransientError } from '../../src/store/transient.js';
import { DEAD_LETTER_PREFIX } from '../../src/layout.js';

export { DEAD_LETTER_PREFIX };

/** What a dead letter holds: enough to see why, and to replay the record by hand. */
export interface DeadLetter {
  messageId: string;
  /** The decoded object key. */
  key: string;
  attempts: number;
  firstReceivedAt: string;
  deadLetteredAt: string;
  error: { name: string; message: string; code?: string; stack?: string };
  record: S3EventRecord;
}

export interface UndeliverableMessage {
  id: string;
  key: string;
  record: S3EventRecord;
  attempts: number;
  receivedAt: number;
  lastError: unknown;
}

/** `errors/dead-letter/2024-05-01T12-00-00-123Z-<id>.json`: sorts by time, never collides. */
export function deadLetterKey(prefix: string, messageId: string, at: Date): string {
  return `${prefix}${at.toISOString().replace(/[:.]/g, '-')}-${messageId}.json`;
}

export function toDeadLetter(message: UndeliverableMessage, at: Date): DeadLetter {
  return {
    messageId: message.id,
    key: message.key,
    attempts: message.attempts,
    firstReceivedAt: new Date(message.receivedAt).toISOString(),
    deadLetteredAt: at.toISOString(),
    error: describeError(message.lastError),
    record: message.record,
  };
}

/**
 * Writes the dead letter, retrying a transient store failure twice; returns its key. A failure that
 * remains is thrown so the queue can report the record instead of losing it quietly.
 */
export async function writeDeadLetter(store: ObjectStore, prefix: string, message: UndeliverableMessage): Promise<string> {
  const at = new Date();
  const key = deadLetterKey(prefix, message.id, at);
  const body = JSON.stringify(toDeadLetter(message, at), null, 2);
  for (let attempt = 1; ; attempt++) {
    try {
      await store.put(key, body, { contentType: 'application/json' });
      return key;
    } catch (err) {
      if (attempt >= 3 || !isTransientError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

function describeError(err: unknown): DeadLetter['error'] {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined, stack: err.stack };
  }
  return { name: 'NonError', message: String(err) };
}
