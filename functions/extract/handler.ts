import middy from '@middy/core';
import type { SQSBatchResponse } from 'aws-lambda';
import { HeadstartError } from '../../src/errors.js';
import type { IngestOutcome, Ingestor } from '../../src/features/ingest.js';
import { parseExtractEvent } from './events.js';
import { logger } from '../../src/logger.js';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { metrics, MetricUnit } from '../shared/metrics.js';

export interface ExtractDeps {
  ingestor: Ingestor;
}

/** Thrown for direct (non-SQS) invocations with transient failures, so Lambda's async retry runs them again. */
export class TransientIngestError extends HeadstartError {
  constructor(readonly outcomes: IngestOutcome[]) {
    super('TransientIngest', `${outcomes.length} image(s) hit a transient storage error and will be retried: ${outcomes.map((o) => o.key).join(', ')}`);
  }
}

/**
 * The extract function: every record of the invocation goes through one `ingest` call (one batched model run);
 * SQS messages whose records hit a transient error are returned as partial batch failures
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html), the rest are done.
 * Permanent failures (bad images) are recorded under errors/ by the ingestor and are not retried.
 */
export function createExtractHandler(resolveDeps: () => Promise<ExtractDeps>) {
  return middy(async (event: unknown): Promise<SQSBatchResponse | { outcomes: IngestOutcome[] }> => {
    const parsed = parseExtractEvent(event);
    const { ingestor } = await resolveDeps();
    const started = performance.now();
    const outcomes = await ingestor.ingest(parsed.messages.flatMap((m) => m.records));
    log(parsed.source, outcomes, performance.now() - started);
    const retry = outcomes.filter((o) => o.status === 'retry');
    if (parsed.source === 'sqs') {
      const failedKeys = new Set(retry.map((o) => o.key));
      return {
        batchItemFailures: parsed.messages
          .filter((m) => m.records.some((r) => failedKeys.has(r.key)))
          .map((m) => ({ itemIdentifier: m.messageId! })),
      };
    }
    if (retry.length) throw new TransientIngestError(retry);
    return { outcomes };
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

function log(source: string, outcomes: IngestOutcome[], ms: number): void {
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
