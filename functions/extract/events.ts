import type { S3EventRecord } from 'aws-lambda';
import type { IngestRecord } from '../../src/features/ingest.js';
import { logger } from '../../src/logger.js';

/** One unit of delivery: an SQS message (id set, retried on its own) or the whole invocation. */
export interface EventMessage {
  /** The SQS messageId, for partial batch failures; undefined for direct invocations. */
  messageId?: string;
  records: IngestRecord[];
}

export interface ParsedEvent {
  source: 'sqs' | 's3' | 'eventbridge';
  messages: EventMessage[];
}

interface EventBridgeS3Event {
  source: 'aws.s3';
  'detail-type': string;
  detail: { bucket: { name: string }; object: { key: string; size?: number; etag?: string } };
}

/**
 * S3 notification keys are URL-encoded with '+' for spaces
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
 */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

function unquote(etag: string | undefined): string | undefined {
  return etag ? etag.replace(/"/g, '') : undefined;
}

function fromS3Records(records: S3EventRecord[]): IngestRecord[] {
  return records
    .filter((r) => r.eventName?.startsWith('ObjectCreated:'))
    .map((r) => ({ key: decodeS3Key(r.s3.object.key), size: r.s3.object.size, etag: unquote(r.s3.object.eTag) }));
}

function isEventBridge(event: unknown): event is EventBridgeS3Event {
  const e = event as Partial<EventBridgeS3Event>;
  return e?.source === 'aws.s3' && typeof e.detail?.object?.key === 'string';
}

/** EventBridge keys arrive as stored, not URL-encoded. */
function fromEventBridge(event: EventBridgeS3Event): IngestRecord[] {
  if (event['detail-type'] !== 'Object Created') return [];
  return [{ key: event.detail.object.key, size: event.detail.object.size, etag: unquote(event.detail.object.etag) }];
}

/** A message body: an S3 notification, an EventBridge event, or S3's `s3:TestEvent` (no records). */
function fromBody(body: string): IngestRecord[] {
  const parsed = JSON.parse(body) as { Records?: S3EventRecord[]; Event?: string };
  if (isEventBridge(parsed)) return fromEventBridge(parsed);
  if (Array.isArray(parsed.Records)) return fromS3Records(parsed.Records);
  if (parsed.Event === 's3:TestEvent') return [];
  throw new Error('message body is neither an S3 notification nor an EventBridge S3 event');
}

/** An SQS batch: every record comes from SQS (an empty batch too, as SQS never sends one). */
export function isSqsEvent(event: unknown): boolean {
  const records = (event as { Records?: Array<{ eventSource?: string }> } | null)?.Records;
  return Array.isArray(records) && records.every((r) => r?.eventSource === 'aws:sqs');
}

/**
 * Accepts the three shapes the extract function is invoked with: SQS-wrapped S3 notifications (the cloud
 * path), direct S3 notifications, and EventBridge "Object Created" events. Unknown shapes throw.
 */
export function parseExtractEvent(event: unknown): ParsedEvent {
  if (isEventBridge(event)) return { source: 'eventbridge', messages: [{ records: fromEventBridge(event) }] };
  const records = (event as { Records?: Array<{ eventSource?: string }> })?.Records;
  if (!Array.isArray(records)) throw new TypeError('unsupported event: expected SQS, S3 or EventBridge records');
  if (isSqsEvent(event)) {
    return {
      source: 'sqs',
      messages: (records as unknown as Array<{ messageId: string; body: string }>).map((m) => ({
        messageId: m.messageId,
        records: safeBody(m.body),
      })),
    };
  }
  if (records.every((r) => r.eventSource === 'aws:s3')) {
    return { source: 's3', messages: [{ records: fromS3Records(records as unknown as S3EventRecord[]) }] };
  }
  throw new TypeError('unsupported event: mixed or unknown record sources');
}

/** A malformed message must not fail its batch: it parses to no records and is logged by the handler. */
function safeBody(body: string): IngestRecord[] {
  try {
    return fromBody(body);
  } catch (error) {
    logger.error('unparseable SQS message skipped', { body: body.slice(0, 500), error });
    return [];
  }
}
