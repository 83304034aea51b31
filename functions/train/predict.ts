import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HeadstartError } from '../../src/errors.js';
import type { IngestRecord } from '../../src/features/ingest-types.js';
import type { CompletionEvents, PredictSummary } from '../../src/predict/index.js';

/** The EventBridge event a finished prediction job sends (default bus): match it with `{ "source": ["headstart"], "detail-type": [...] }`. */
export const PREDICT_EVENT = { source: 'headstart', detailType: 'Prediction Job Completed' } as const;

/** The subset of an SDK v3 client the adapters use (`SQSClient`, `EventBridgeClient` have it). */
export interface SendClient {
  send(command: unknown): Promise<unknown>;
}

/** SendMessageBatch takes at most 10 entries. */
const SQS_BATCH = 10;

/**
 * The body the extract function reads for one image (functions/extract/events.ts): an EventBridge-shaped
 * "Object Created" event, whose key is stored as is (an S3 notification's would need URL-encoding).
 */
export function extractMessageBody(bucket: string, record: IngestRecord): string {
  return JSON.stringify({
    source: 'aws.s3',
    'detail-type': 'Object Created',
    detail: { bucket: { name: bucket }, object: { key: record.key, size: record.size, etag: record.etag } },
  });
}

/**
 * Hands images to the extract queue, ten per SendMessageBatch; an entry SQS refuses is sent once more, then
 * the call fails (the job records it). `newCommand` builds a SendMessageBatchCommand.
 */
export function sqsEnqueue(client: SendClient, newCommand: (input: SqsBatchInput) => unknown, queueUrl: string, bucket: string) {
  return async (records: readonly IngestRecord[]): Promise<void> => {
    for (let start = 0; start < records.length; start += SQS_BATCH) {
      let entries = records.slice(start, start + SQS_BATCH).map((record, i) => ({ Id: String(start + i), MessageBody: extractMessageBody(bucket, record) }));
      for (let attempt = 1; entries.length > 0; attempt++) {
        const result = (await client.send(newCommand({ QueueUrl: queueUrl, Entries: entries }))) as { Failed?: Array<{ Id?: string; Message?: string }> };
        const failed = new Set((result.Failed ?? []).map((f) => f.Id));
        if (failed.size === 0) break;
        if (attempt === 2) {
          throw new HeadstartError('ExtractQueueFailed', `The extract queue refused ${failed.size} image(s): ${result.Failed?.[0]?.Message ?? 'no reason given'}.`);
        }
        entries = entries.filter((e) => failed.has(e.Id));
      }
    }
  };
}

export interface SqsBatchInput {
  QueueUrl: string;
  Entries: Array<{ Id: string; MessageBody: string }>;
}

export interface PutEventsInput {
  Entries: Array<{ Source: string; DetailType: string; Detail: string; EventBusName?: string; Resources?: string[] }>;
}

/** PutEvents of PREDICT_EVENT on the default bus, the job summary as its detail; a refused entry throws (the runner logs it). */
export function eventBridgeEvents(client: SendClient, newCommand: (input: PutEventsInput) => unknown): CompletionEvents {
  return {
    async publish(summary: PredictSummary) {
      const result = (await client.send(
        newCommand({ Entries: [{ Source: PREDICT_EVENT.source, DetailType: PREDICT_EVENT.detailType, Detail: JSON.stringify(summary) }] }),
      )) as { FailedEntryCount?: number; Entries?: Array<{ ErrorCode?: string; ErrorMessage?: string }> };
      if (result.FailedEntryCount) {
        const entry = result.Entries?.find((e) => e.ErrorCode);
        throw new HeadstartError('EventNotPublished', `EventBridge refused the completion event: ${entry?.ErrorCode ?? '?'} ${entry?.ErrorMessage ?? ''}`.trim());
      }
    },
  };
}

/**
 * Where the train and predict functions announce a finished prediction job: EventBridge's default bus, or
 * nowhere with PREDICT_EVENTS=off (a test of the handler with no EventBridge to reach).
 */
export function completionEventsFromEnv(env: NodeJS.ProcessEnv = process.env): CompletionEvents | undefined {
  return env.PREDICT_EVENTS === 'off' ? undefined : eventBridgeEvents(new EventBridgeClient({}), (input) => new PutEventsCommand(input));
}
