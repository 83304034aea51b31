import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { HeadstartError } from '../../src/errors.js';
import type { IngestOutcome, Ingestor } from '../../src/features/ingest.js';
import { logger } from '../../src/logger.js';
import { metrics, MetricUnit } from '../shared/metrics.js';
import { isSqsEvent, parseExtractEvent, type EventMessage } from './events.js';

export interface ExtractDeps {
  ingestor: Pick<Ingestor, 'ingest'>;
}

/** Thrown for direct (non-SQS) invocations with transient failures, so Lambda's async retry runs them again. */
export class TransientIngestError extends HeadstartError {
  constructor(readonly outcomes: IngestOutcome[]) {
    super('TransientIngest', `${outcomes.length} image(s) hit a transient storage error and will be retried: ${outcomes.map((o) => o.key).join(', ')}`);
  }
}

/** An SQS batch's partial failures, or a direct invocation's outcomes. */
export type ExtractResult = SQSBatchResponse | { outcomes: IngestOutcome[] };

/**
 * The extract function: every record of the invocation goes through one `ingest` call (one batched model run).
 * From SQS, each message then settles on its own, rejected when one of its records hit a transient error;
 * `@middy/sqs-partial-batch-failure` answers the rejected ones as `batchItemFailures`
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html), so SQS delivers only them
 * again, and a batch that throws as a whole returns every message. Permanent failures (bad images) are
 * recorded under errors/ by the ingestor and are not retried. A direct invocation (S3 notification,
 * EventBridge) throws TransientIngestError instead, so Lambda's async retry runs it again.
 */
export function createExtractHandler(resolveDeps: () => Promise<ExtractDeps>) {
  return middy(async (event: unknown): Promise<ExtractResult> => {
    const parsed = parseExtractEvent(event);
    const { ingestor } = await resolveDeps();
    const started = performance.now();
    const outcomes = await ingestor.ingest(parsed.messages.flatMap((m) => m.records));
    report(parsed.source, outcomes, performance.now() - started);
    // The middleware's `after` turns the settled messages into the SQSBatchResponse the caller gets.
    if (parsed.source === 'sqs') return settlePerMessage(parsed.messages, outcomes) as unknown as SQSBatchResponse;
    const retry = outcomes.filter((o) => o.status === 'retry');
    if (retry.length) throw new TransientIngestError(retry);
    return { outcomes };
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(forSqsEvents(sqsPartialBatchFailure({ logger: logReturnedMessage })));
}

/** One settled result per message, in event order (what sqs-partial-batch-failure reads). */
function settlePerMessage(messages: readonly EventMessage[], outcomes: readonly IngestOutcome[]): Array<PromiseSettledResult<void>> {
  const retry = new Map(outcomes.filter((o) => o.status === 'retry').map((o) => [o.key, o]));
  return messages.map((message) => {
    const failed = message.records.flatMap((r) => retry.get(r.key) ?? []);
    return failed.length ? { status: 'rejected', reason: new TransientIngestError(failed) } : { status: 'fulfilled', value: undefined };
  });
}

/** The middleware's hooks on SQS events only: a direct S3 or EventBridge invocation has no messages to return. */
function forSqsEvents(middleware: MiddlewareObj): MiddlewareObj {
  return {
    after: async (request) => (isSqsEvent(request.event) ? middleware.after?.(request) : undefined),
    onError: async (request) => (isSqsEvent(request.event) ? middleware.onError?.(request) : undefined),
  };
}

function logReturnedMessage(reason: unknown, record: SQSRecord): void {
  logger.warn('SQS message returned for another delivery', { messageId: record.messageId, error: reason });
}

function report(source: string, outcomes: IngestOutcome[], ms: number): void {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
  logger.info('extract batch', { source, counts, ms: Math.round(ms) });
  metrics.addMetric('ImagesExtracted', MetricUnit.Count, counts.extracted ?? 0);
  metrics.addMetric('ExtractionFailures', MetricUnit.Count, counts.failed ?? 0);
  metrics.addMetric('ExtractionRetries', MetricUnit.Count, counts.retry ?? 0);
  for (const o of outcomes.filter((x) => x.status === 'failed' || x.status === 'retry')) {
    logger[o.status === 'failed' ? 'warn' : 'error']('image not extracted', { key: o.key, status: o.status, code: o.code, reason: o.reason });
  }
}
