import { describe, expect, it } from 'vitest';
import { createSequencer, decodeS3EventKey, encodeS3EventKey, objectCreatedRecord } from '../../local/s3/event-record.js';

describe('S3 event key encoding', () => {
  it.each([
    ['images/a b.jpg', 'images/a+b.jpg'],
    ['images/x+y.jpg', 'images/x%2By.jpg'],
    ['images/über/猫.png', 'images/%C3%BCber/%E7%8C%AB.png'],
    ['images/a=b&c?d#e%f.jpg', 'images/a%3Db%26c%3Fd%23e%25f.jpg'],
    ['images/plain-name_1.0~x.jpg', 'images/plain-name_1.0~x.jpg'],
  ])('encodes %j as %j, slashes kept', (key, encoded) => {
    expect(encodeS3EventKey(key)).toBe(encoded);
    expect(decodeS3EventKey(encoded)).toBe(key);
  });

  it('round-trips random keys (fuzz)', () => {
    const alphabet = [...'ab /+%=&?#~*()\'!', 'ü', '猫', '\u{1F600}', '\t'];
    for (let i = 0; i < 500; i++) {
      const key = Array.from({ length: 1 + (i % 40) }, (_, j) => alphabet[(i * 7 + j * 13) % alphabet.length]).join('');
      expect(decodeS3EventKey(encodeS3EventKey(key))).toBe(key);
      const encoded = encodeS3EventKey(key);
      // Every '+' stands for a space; a literal '+' is always %2B.
      expect(encoded.split('+').length).toBe(key.split(' ').length);
      expect(encoded).not.toContain(' ');
    }
  });
});

describe('objectCreatedRecord', () => {
  it('builds an S3 notification record (event version 2.1) for a stored object', () => {
    const record = objectCreatedRecord('headstart', { key: 'images/a b.jpg', size: 5, etag: 'abc' });
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      s3: { s3SchemaVersion: '1.0', bucket: { name: 'headstart', arn: 'arn:aws:s3:::headstart' }, object: { key: 'images/a+b.jpg', size: 5, eTag: 'abc' } },
    });
  });

  it('makes sequencers that grow strictly even within one millisecond', () => {
    const next = createSequencer();
    const values = Array.from({ length: 100 }, next);
    expect(values.every((v) => /^[0-9A-F]{16}$/.test(v))).toBe(true);
    expect([...values].sort()).toEqual(values);
    expect(new Set(values).size).toBe(100);
  });
});
