import type { S3EventRecord } from 'aws-lambda';
import { createSequencer, objectCreatedRecord } from '../../local/s3/event-record.js';
import type { EventBatchHandler } from '../../local/s3/queue.js';

const nextSequencer = createSequencer();

/** An ObjectCreated:Put record for a key (given decoded; the record carries it URL-encoded). */
export function s3RecordFactory(key: string, size = 3, bucket = 'headstart'): S3EventRecord {
  return objectCreatedRecord(bucket, { key, size, etag: 'd41d8cd98f00b204e9800998ecf8427e' }, { region: 'us-east-1', nextSequencer });
}

/** A logger that keeps what the queue reports, so tests stay quiet and can assert on it (fields as JSON, as the logger prints them). */
export function captureLogger(): { warn: (...a: unknown[]) => void; error: (...a: unknown[]) => void; lines: string[] } {
  const lines: string[] = [];
  const text = (arg: unknown): string => (arg !== null && typeof arg === 'object' && !(arg instanceof Error) ? JSON.stringify(arg) : String(arg));
  const keep = (level: string) => (...args: unknown[]) => {
    lines.push(`${level}: ${args.map(text).join(' ')}`);
  };
  return { warn: keep('warn'), error: keep('error'), lines };
}

/** A handler that records the decoded keys of every batch it gets and runs `behaviour` on it. */
export function recordingHandler(behaviour: (records: S3EventRecord[], call: number) => ReturnType<EventBatchHandler> = async () => undefined) {
  const batches: string[][] = [];
  const handler: EventBatchHandler = async (records) => {
    batches.push(records.map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '))));
    return behaviour(records, batches.length);
  };
  return { handler, batches };
}
