import { randomBytes } from 'node:crypto';
import type { S3EventRecord } from 'aws-lambda';
import type { S3rverEvent } from './s3rver.js';

type S3rverRecord = S3rverEvent['Records'][number];

/**
 * Encodes a key the way S3 writes it into event notifications: form-URL encoding (a space
 * becomes '+', a '+' becomes '%2B', UTF-8 percent-escaped) with '/' left as is. s3rver puts the raw
 * key in its events, so a handler written for AWS (`decodeURIComponent(key.replace(/\+/g, ' '))`)
 * would read the wrong key locally without this.
 */
export function encodeS3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

/** The inverse of `encodeS3EventKey`, and what an S3 event consumer does with `s3.object.key`. */
export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/**
 * Makes S3's `sequencer`: hex, the same length for every event, growing with each event so that
 * ordering events for one key works as on AWS (s3rver's is the millisecond clock, equal within a ms).
 */
export function createSequencer(): () => string {
  let last = 0n;
  return () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    last = now > last ? now : last + 1n;
    return last.toString(16).toUpperCase().padStart(16, '0');
  };
}

export interface EventRecordContext {
  region: string;
  nextSequencer: () => string;
}

/** True for s3rver records of a stored object (Put, Post, Copy; multipart completion comes as Post). */
export function isObjectCreated(raw: S3rverRecord): boolean {
  return raw.eventName.startsWith('ObjectCreated:');
}

/** Turns one s3rver record into the S3 notification record (event version 2.1) AWS would deliver. */
export function toS3EventRecord(raw: S3rverRecord, context: EventRecordContext): S3EventRecord {
  const bucket = raw.s3.bucket.name;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: context.region,
    eventTime: raw.eventTime,
    eventName: raw.eventName,
    userIdentity: { principalId: 'AWS:S3RVER' },
    requestParameters: { sourceIPAddress: raw.requestParameters.sourceIPAddress },
    responseElements: raw.responseElements,
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'headstart-local',
      bucket: { name: bucket, ownerIdentity: { principalId: 'S3RVER' }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encodeS3EventKey(raw.s3.object.key),
        size: Number(raw.s3.object.size ?? 0),
        eTag: (raw.s3.object.eTag ?? '').replace(/"/g, ''),
        sequencer: context.nextSequencer(),
      },
    },
  };
}

/**
 * A created-object record for an object that is already stored: for replaying existing uploads
 * into the queue (a backfill) and for tests that feed the queue without a server.
 */
export function objectCreatedRecord(
  bucket: string,
  object: { key: string; size: number; etag?: string },
  context: EventRecordContext = { region: 'us-east-1', nextSequencer: createSequencer() },
): S3EventRecord {
  const raw: S3rverRecord = {
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:Put',
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': '' },
    s3: { bucket: { name: bucket }, object: { key: object.key, size: object.size, eTag: object.etag, sequencer: '' } },
  };
  return toS3EventRecord(raw, context);
}
