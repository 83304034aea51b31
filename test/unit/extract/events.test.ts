import { describe, expect, it } from 'vitest';
import { decodeS3Key, parseExtractEvent } from '../../../functions/extract/events.js';

function s3Record(key: string, eventName = 'ObjectCreated:Put', size = 10) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-01-01T00:00:00.000Z',
    eventName,
    s3: { bucket: { name: 'headstart', arn: 'arn:aws:s3:::headstart' }, object: { key, size, eTag: '"x"', sequencer: '1' } },
  };
}

function sqsRecord(messageId: string, body: unknown) {
  return { messageId, receiptHandle: 'r', body: typeof body === 'string' ? body : JSON.stringify(body), eventSource: 'aws:sqs', attributes: {}, messageAttributes: {} };
}

describe('parseExtractEvent', () => {
  it('decodes S3 keys as S3 encodes them: + for spaces, percent-escapes for the rest', () => {
    expect(decodeS3Key('images/d/l/my+photo%C3%BC%2B1.jpg')).toBe('images/d/l/my photoü+1.jpg');
  });

  it('reads SQS-wrapped S3 notifications, one message per SQS record', () => {
    const event = {
      Records: [
        sqsRecord('m1', { Records: [s3Record('images/d/cat/a+b.jpg'), s3Record('images/d/cat/c.jpg')] }),
        sqsRecord('m2', { Records: [s3Record('images/d/dog/x.jpg', 'ObjectRemoved:Delete')] }),
      ],
    };
    expect(parseExtractEvent(event)).toEqual({
      source: 'sqs',
      messages: [
        { messageId: 'm1', records: [{ key: 'images/d/cat/a b.jpg', size: 10, etag: 'x' }, { key: 'images/d/cat/c.jpg', size: 10, etag: 'x' }] },
        { messageId: 'm2', records: [] },
      ],
    });
  });

  it("treats S3's test event and an unparseable message as no records, without failing the batch", () => {
    const parsed = parseExtractEvent({ Records: [sqsRecord('t', { Event: 's3:TestEvent' }), sqsRecord('bad', 'not json')] });
    expect(parsed.messages.map((m) => m.records)).toEqual([[], []]);
  });

  it('reads direct S3 notifications', () => {
    expect(parseExtractEvent({ Records: [s3Record('images/d/l/%E7%8C%AB.png')] })).toEqual({
      source: 's3',
      messages: [{ records: [{ key: 'images/d/l/猫.png', size: 10, etag: 'x' }] }],
    });
  });

  it('reads EventBridge Object Created events, whose keys are not URL-encoded', () => {
    const event = { source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key: 'images/d/l/a+b.jpg', size: 5, etag: 'e1' } } };
    expect(parseExtractEvent(event)).toEqual({ source: 'eventbridge', messages: [{ records: [{ key: 'images/d/l/a+b.jpg', size: 5, etag: 'e1' }] }] });
    expect(parseExtractEvent({ Records: [sqsRecord('e', event)] }).messages[0]!.records).toEqual([{ key: 'images/d/l/a+b.jpg', size: 5, etag: 'e1' }]);
  });

  it('rejects events of unknown shape', () => {
    expect(() => parseExtractEvent({ hello: 1 })).toThrow('unsupported event');
    expect(() => parseExtractEvent({ Records: [{ eventSource: 'aws:kinesis' }] })).toThrow('unsupported event');
  });
});
