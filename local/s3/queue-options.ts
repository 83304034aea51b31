import type { S3EventRecord } from 'aws-lambda';
import { InvalidArgumentError } from '../../src/errors.js';
import type { ObjectStore } from '../../src/store/types.js';
import { DEAD_LETTER_PREFIX } from './dead-letter.js';
import { logger, type Logger } from '../../src/logger.js';
import { PREFIX } from '../../src/layout.js';

/**
 * Processes one batch. Throwing fails the whole batch; returning `failedKeys` fails only those
 * records (SQS partial batch response). A failed key may be given as in the record (URL-encoded)
 * or decoded.
 */
export type EventBatchHandler = (records: S3EventRecord[]) => Promise<{ failedKeys?: string[] } | void>;

/** How long one delivered batch spent in the queue's hands, for the ingest bench's stage table. */
export interface QueueBatchTiming {
  records: number;
  /** From the oldest record becoming visible to the handler call: the batching window's wait. */
  receiveMs: number;
  handlerMs: number;
  /** From the handler's answer to every record marked done or put back. */
  ackMs: number;
}

/** S3 notification filter rules, applied to the decoded key. */
export interface EventFilter {
  prefix?: string;
  suffix?: string;
}

export interface LocalEventQueueOptions {
  handler: EventBatchHandler;
  /** Where dead letters are written. */
  store: ObjectStore;
  /** Only these keys are delivered. @default { prefix: 'images/' } */
  filter?: EventFilter;
  /** Batches in flight at once. @default 2 */
  concurrency?: number;
  /** Most records per batch. @default 8 */
  batchSize?: number;
  /** How long a batch waits to fill up once its first record is ready. @default 200 */
  batchWindowMs?: number;
  /** Deliveries per record before it is dead-lettered. @default 3 */
  maxAttempts?: number;
  /** Delay before the first retry; doubles each retry. @default 500 */
  backoffMs?: number;
  /** A handler call that has not settled by then counts as failed (Lambda's timeout). @default 900000 */
  visibilityTimeoutMs?: number;
  /** Never delivered whatever the filter says, so a dead letter cannot loop back. @default 'errors/dead-letter/' */
  deadLetterPrefix?: string;
  /** Retries and dead letters are reported here. @default the shared logger (src/logger.ts) */
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** Called after each delivery with its timing. @default none */
  onBatch?: (timing: QueueBatchTiming) => void;
}

export type ResolvedQueueOptions = Required<Omit<LocalEventQueueOptions, 'onBatch'>> & Pick<LocalEventQueueOptions, 'onBatch'>;

export const QUEUE_DEFAULTS = {
  filter: { prefix: PREFIX.images },
  concurrency: 2,
  batchSize: 8,
  batchWindowMs: 200,
  maxAttempts: 3,
  backoffMs: 500,
  visibilityTimeoutMs: 900_000,
  deadLetterPrefix: DEAD_LETTER_PREFIX,
} as const;

const POSITIVE = ['concurrency', 'batchSize', 'maxAttempts', 'visibilityTimeoutMs'] as const;
const NON_NEGATIVE = ['batchWindowMs', 'backoffMs'] as const;

export function resolveQueueOptions(options: LocalEventQueueOptions): ResolvedQueueOptions {
  if (typeof options.handler !== 'function') throw new InvalidArgumentError('LocalEventQueue needs a handler function.');
  if (!options.store) throw new InvalidArgumentError('LocalEventQueue needs a store to write dead letters to.');
  const resolved: ResolvedQueueOptions = {
    ...QUEUE_DEFAULTS,
    logger,
    ...withoutUndefined(options),
    handler: options.handler,
    store: options.store,
  };
  for (const name of POSITIVE) assertInteger(name, resolved[name], 1);
  for (const name of NON_NEGATIVE) assertInteger(name, resolved[name], 0);
  return resolved;
}

function assertInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`LocalEventQueue option ${name} must be an integer >= ${min}, got ${value}.`);
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
