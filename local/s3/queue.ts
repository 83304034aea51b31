import { randomUUID } from 'node:crypto';
import type { S3EventRecord } from 'aws-lambda';
import { HeadstartError } from '../../src/errors.js';
import { writeDeadLetter, type UndeliverableMessage } from './dead-letter.js';
import { decodeS3EventKey } from './event-record.js';
import { resolveQueueOptions, type LocalEventQueueOptions, type QueueBatchTiming, type ResolvedQueueOptions } from './queue-options.js';

export type { EventBatchHandler, EventFilter, LocalEventQueueOptions, QueueBatchTiming } from './queue-options.js';

/** Counters since the queue was created; `pending` and `inFlight` are the current state. */
export interface QueueStats {
  /** Records offered to `enqueue`. */
  received: number;
  /** Records the filter (or the dead-letter guard) dropped on arrival. */
  ignored: number;
  /** Records the handler accepted. */
  delivered: number;
  /** Failed deliveries put back for another try. */
  retried: number;
  /** Records written to the dead-letter prefix after their last try. */
  deadLettered: number;
  /** Records whose dead letter could not be written either (logged in full). */
  deadLetterFailures: number;
  pending: number;
  inFlight: number;
}

interface Message extends UndeliverableMessage {
  visibleAt: number;
}

/**
 * Delivers object-created records to a handler with SQS-and-Lambda semantics, for the local stack:
 * records are filtered by key (prefix `images/` by default) and batched (up to `batchSize`, waiting
 * at most `batchWindowMs`); at most `concurrency` batches run at once; a thrown error fails the batch,
 * reported `failedKeys` fail just those records; failed records come back after an exponential backoff
 * and, after `maxAttempts` deliveries, are written to the store as dead letters. Nothing is dropped
 * silently and nothing is retried forever.
 *
 * Wire it to the embedded server: `s3.events.on('objectCreated', (r) => queue.enqueue(r))`.
 * See https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export class LocalEventQueue {
  private readonly options: ResolvedQueueOptions;
  private readonly pending: Message[] = [];
  private readonly counts = { received: 0, ignored: 0, delivered: 0, retried: 0, deadLettered: 0, deadLetterFailures: 0 };
  private inFlightBatches = 0;
  private inFlightRecords = 0;
  private writingDeadLetters = 0;
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(options: LocalEventQueueOptions) {
    this.options = resolveQueueOptions(options);
  }

  /**
   * Accepts records as S3 delivers them (URL-encoded keys); those outside the filter are ignored.
   * Throws QueueClosed for a record it would deliver after `close()`.
   */
  enqueue(records: S3EventRecord | S3EventRecord[]): void {
    const now = Date.now();
    for (const record of Array.isArray(records) ? records : [records]) {
      this.counts.received++;
      const key = decodeS3EventKey(record.s3.object.key);
      // Ignored even after close: a closing queue's own dead letters still raise events.
      if (!this.accepts(key)) {
        this.counts.ignored++;
        continue;
      }
      if (this.closing) throw new HeadstartError('QueueClosed', `LocalEventQueue is closed; '${key}' was not accepted.`);
      this.pending.push({ id: randomUUID(), key, record, attempts: 0, receivedAt: now, visibleAt: now, lastError: undefined });
    }
    this.pump();
  }

  stats(): QueueStats {
    return { ...this.counts, pending: this.pending.length, inFlight: this.inFlightRecords };
  }

  /** Resolves once nothing is pending, in flight, or being dead-lettered. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting records, delivers what is pending without waiting for batch windows, and drains. */
  async close(): Promise<void> {
    this.closing = true;
    this.pump();
    await this.idle();
    clearTimeout(this.timer);
  }

  private accepts(key: string): boolean {
    const { filter, deadLetterPrefix } = this.options;
    if (key.startsWith(deadLetterPrefix)) return false;
    return key.startsWith(filter.prefix ?? '') && key.endsWith(filter.suffix ?? '');
  }

  /** Starts every batch that is due, then sleeps until the next one could be. */
  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    while (this.inFlightBatches < this.options.concurrency) {
      const ready = this.pending.filter((m) => m.visibleAt <= now);
      if (ready.length === 0) break;
      const windowEnds = Math.min(...ready.map((m) => m.visibleAt)) + this.options.batchWindowMs;
      if (ready.length < this.options.batchSize && now < windowEnds && !this.closing) break;
      void this.dispatch(ready.slice(0, this.options.batchSize));
    }
    this.scheduleWake(now);
  }

  private scheduleWake(now: number): void {
    if (this.pending.length === 0 || this.inFlightBatches >= this.options.concurrency) return;
    const wakeAt = Math.min(
      ...this.pending.map((m) => (m.visibleAt <= now ? m.visibleAt + this.options.batchWindowMs : m.visibleAt)),
    );
    this.timer = setTimeout(() => this.pump(), Math.max(0, wakeAt - now));
  }

  private async dispatch(batch: Message[]): Promise<void> {
    for (const m of batch) {
      this.pending.splice(this.pending.indexOf(m), 1);
      m.attempts++;
    }
    this.inFlightBatches++;
    this.inFlightRecords += batch.length;
    const called = performance.now();
    const receiveMs = Date.now() - Math.min(...batch.map((m) => m.visibleAt));
    const failures = await this.deliver(batch);
    const answered = performance.now();
    this.inFlightBatches--;
    this.inFlightRecords -= batch.length;
    for (const m of batch) {
      if (failures.has(m)) this.fail(m, failures.get(m));
      else this.counts.delivered++;
    }
    this.report({ records: batch.length, receiveMs, handlerMs: answered - called, ackMs: performance.now() - answered });
    this.pump();
    this.settleIdle();
  }

  private report(timing: QueueBatchTiming): void {
    try {
      this.options.onBatch?.(timing);
    } catch (err) {
      this.options.logger.error('event queue: the onBatch hook failed', { error: err });
    }
  }

  /** Calls the handler once; returns the failed messages with their errors. Never throws. */
  private async deliver(batch: Message[]): Promise<Map<Message, unknown>> {
    let result: { failedKeys?: unknown } | void;
    try {
      // Each delivery gets its own copy, as each SQS receive does: a handler's edits do not leak into retries.
      result = await this.withTimeout(this.options.handler(batch.map((m) => structuredClone(m.record))));
    } catch (err) {
      return new Map(batch.map((m) => [m, err]));
    }
    const failedKeys = result?.failedKeys ?? [];
    if (!Array.isArray(failedKeys)) {
      const err = new HeadstartError('InvalidHandlerResult', `Handler returned failedKeys ${JSON.stringify(failedKeys)}; expected an array of keys.`);
      return new Map(batch.map((m) => [m, err]));
    }
    const failed = new Set(failedKeys);
    return new Map(
      batch
        .filter((m) => failed.has(m.record.s3.object.key) || failed.has(m.key))
        .map((m) => [m, new HeadstartError('RecordFailed', `Handler reported '${m.key}' as failed.`)]),
    );
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    const ms = this.options.visibilityTimeoutMs;
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => reject(new HeadstartError('HandlerTimeout', `Handler did not settle within ${ms} ms.`)), ms);
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timeout));
  }

  private fail(m: Message, err: unknown): void {
    m.lastError = err;
    const { maxAttempts, backoffMs, logger } = this.options;
    if (m.attempts >= maxAttempts) {
      void this.deadLetter(m);
      return;
    }
    const delay = backoffMs * 2 ** (m.attempts - 1);
    m.visibleAt = Date.now() + delay;
    this.pending.push(m);
    this.counts.retried++;
    logger.warn(`event queue: '${m.key}' failed (attempt ${m.attempts} of ${maxAttempts}), retrying in ${delay} ms: ${message(err)}`);
  }

  private async deadLetter(m: Message): Promise<void> {
    this.writingDeadLetters++;
    const { store, deadLetterPrefix, logger } = this.options;
    try {
      const key = await writeDeadLetter(store, deadLetterPrefix, m);
      this.counts.deadLettered++;
      logger.error(`event queue: '${m.key}' failed ${m.attempts} times; dead letter at '${key}': ${message(m.lastError)}`);
    } catch (err) {
      this.counts.deadLetterFailures++;
      logger.error(`event queue: '${m.key}' failed and its dead letter could not be written`, { record: m.record, error: err });
    } finally {
      this.writingDeadLetters--;
      this.settleIdle();
    }
  }

  private isIdle(): boolean {
    return this.pending.length === 0 && this.inFlightBatches === 0 && this.writingDeadLetters === 0;
  }

  private settleIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
