import { createHash, randomBytes } from 'node:crypto';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../local/s3/dead-letter.js';
import { LocalEventQueue, type EventBatchHandler } from '../../local/s3/queue.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalS3Process } from '../../local/s3/process.js';
import { startLocalS3 } from '../../local/s3/server.js';
import { createS3Client, S3Store } from '../../src/store/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { captureLogger } from '../helpers/store-events.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';

const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

describe('embedded S3 server events through the queue', () => {
  let t: TestS3;
  let queue: LocalEventQueue | undefined;
  let behaviour: EventBatchHandler;
  let received: S3EventRecord[][];

  beforeAll(async () => {
    t = await startTestS3();
  });
  afterAll(async () => t.stop());
  afterEach(async () => {
    await queue?.close();
    t.s3.events.removeAllListeners();
  });

  /** Wires a fresh queue to the server's events, with fast retries and a handler per test. */
  function connect(handler: EventBatchHandler = async () => undefined): LocalEventQueue {
    received = [];
    behaviour = handler;
    queue = new LocalEventQueue({
      store: t.store,
      logger: captureLogger(),
      batchWindowMs: 20,
      backoffMs: 10,
      handler: async (records) => {
        received.push(records);
        return behaviour(records);
      },
    });
    t.s3.events.on('objectCreated', (record) => queue!.enqueue(record));
    return queue;
  }

  it('starts on a free port when asked for port 0', () => {
    expect(t.s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(t.s3.endpoint.endsWith(':0')).toBe(false);
  });

  it('delivers an S3 event record with the key URL-encoded as S3 does', async () => {
    const q = connect();
    const body = randomBytes(1234);
    await t.store.put('images/pets/cat/Mr Whiskers ü+1.jpg', body);
    await q.idle();
    expect(received).toHaveLength(1);
    const [record] = received[0]!;
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: 'headstart', arn: 'arn:aws:s3:::headstart' },
        object: { key: 'images/pets/cat/Mr+Whiskers+%C3%BC%2B1.jpg', size: 1234, eTag: md5(body) },
      },
    });
    expect(record!.s3.object.sequencer).toMatch(/^[0-9A-F]{16}$/);
    expect(Date.parse(record!.eventTime)).not.toBeNaN();
    // What an AWS handler does with the key gives back the stored key.
    expect(decodeURIComponent(record!.s3.object.key.replace(/\+/g, ' '))).toBe('images/pets/cat/Mr Whiskers ü+1.jpg');
  });

  it("never delivers the extractor's own writes under features/ and errors/", async () => {
    const q = connect();
    await t.store.put('features/vgg16@abc/fc2/0123.safetensors', 'f');
    await t.store.put('errors/pets/cat/x.json', '{}');
    await t.store.put('images/pets/dog/1.jpg', 'd');
    await q.idle();
    expect(received.flat().map((r) => r.s3.object.key)).toEqual(['images/pets/dog/1.jpg']);
    expect(q.stats()).toMatchObject({ received: 3, ignored: 2, delivered: 1 });
  });

  it('gives each event of a key a growing sequencer, and reports multipart uploads too', async () => {
    const q = connect();
    await t.store.put('images/seq/a.jpg', 'one');
    await t.store.put('images/seq/a.jpg', 'two');
    await t.store.put('images/seq/big.bin', randomBytes(9 * 1024 * 1024));
    await q.idle();
    const records = received.flat();
    expect(records.map((r) => r.s3.object.key)).toEqual(['images/seq/a.jpg', 'images/seq/a.jpg', 'images/seq/big.bin']);
    expect(records[0]!.s3.object.sequencer < records[1]!.s3.object.sequencer).toBe(true);
    expect(records[2]!.s3.object.size).toBe(9 * 1024 * 1024);
  });

  it('retries a failing handler 3 times, then writes a dead letter to the bucket (which does not loop back)', async () => {
    const q = connect(async () => {
      throw new Error('cannot decode image');
    });
    await t.store.put('images/bad/cat/broken one.jpg', 'not a jpeg');
    await q.idle();
    expect(received).toHaveLength(3);
    expect(q.stats()).toMatchObject({ retried: 2, deadLettered: 1, delivered: 0 });
    const letters = await t.store.list('errors/dead-letter/');
    const letter = JSON.parse((await t.store.get(letters.objects.at(-1)!.key)).toString()) as DeadLetter;
    expect(letter).toMatchObject({
      key: 'images/bad/cat/broken one.jpg',
      attempts: 3,
      error: { message: 'cannot decode image' },
      record: { s3: { object: { key: 'images/bad/cat/broken+one.jpg' } } },
    });
    // The dead letter's own object-created event reached the queue and was ignored.
    expect(q.stats()).toMatchObject({ received: 2, ignored: 1 });
  });

  it('succeeds on retry when the handler fails once', async () => {
    let calls = 0;
    const q = connect(async () => {
      if (++calls === 1) throw new Error('warming up');
    });
    await t.store.put('images/retry/cat/1.jpg', 'x');
    await q.idle();
    expect(calls).toBe(2);
    expect(q.stats()).toMatchObject({ delivered: 1, retried: 1, deadLettered: 0 });
  });
});

describe('embedded S3 server lifecycle', () => {
  it('keeps data across a restart on the same directory', async () => {
    const first = await startTestS3();
    await first.store.put('images/keep/me.jpg', 'still here', { metadata: { label: 'me' } });
    await first.stop({ keepData: true });

    const second = await startTestS3(first.dataDir);
    try {
      expect((await second.store.get('images/keep/me.jpg')).toString()).toBe('still here');
      expect((await second.store.head('images/keep/me.jpg'))?.metadata).toEqual({ label: 'me' });
    } finally {
      await second.stop();
    }
  });

  it('rejects an invalid port', async () => {
    await expect(startLocalS3({ port: 70000 })).rejects.toThrow(new InvalidArgumentError('port must be an integer from 0 to 65535, got 70000.'));
  });
});

describe('embedded S3 server: objects are replaced atomically, as S3 does', () => {
  let t: TestS3;
  beforeAll(async () => {
    t = await startTestS3();
  });
  afterAll(async () => t.stop());

  it('a GET racing PUTs of the same key reads one whole version, never a torn one', async () => {
    // Job records are rewritten after every epoch while clients poll them: each read must parse.
    const versions = Array.from({ length: 6 }, (_, i) => JSON.stringify({ version: i, padding: 'x'.repeat(20_000 * (i + 1)) }));
    const digests = new Set(versions.map((v) => md5(v)));
    await t.store.put('jobs/race.json', versions[0]!);
    let stop = false;
    const writer = (async () => {
      for (let round = 0; !stop; round++) await t.store.put('jobs/race.json', versions[round % versions.length]!);
    })();
    const seen = new Set<string>();
    for (let i = 0; i < 150; i++) {
      const body = await t.store.get('jobs/race.json');
      expect(digests.has(md5(body)), `read ${i}: ${body.length} bytes`).toBe(true);
      seen.add(md5(body));
      const head = await t.store.head('jobs/race.json');
      expect(head?.size).toBeGreaterThan(0);
    }
    stop = true;
    await writer;
    // The reads really raced the writes.
    expect(seen.size).toBeGreaterThan(1);
    // No temporary file is ever listed as an object.
    const keys: string[] = [];
    for await (const info of t.store.listAll('jobs/')) keys.push(info.key);
    expect(keys).toEqual(['jobs/race.json']);
  });
});

describe('the embedded S3 server in its own process (what `headstart dev` runs)', () => {
  it('serves the S3 API, forwards object events in order over IPC, and stops on close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'headstart-s3-process-'));
    const s3 = await startLocalS3Process({ port: 0, dataDir: dir, bucket: 'procs' });
    try {
      expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const records: S3EventRecord[] = [];
      s3.events.on('objectCreated', (record) => records.push(record));
      const store = new S3Store(createS3Client({ endpoint: s3.endpoint }), 'procs');
      for (const name of ['a b.png', 'c.png', 'd.png']) await store.put(`images/pets/cat/${name}`, 'bytes');
      for (let i = 0; i < 100 && records.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      expect(records.map((r) => r.s3.object.key)).toEqual(['images/pets/cat/a+b.png', 'images/pets/cat/c.png', 'images/pets/cat/d.png']);
      expect(records[0]).toMatchObject({ eventSource: 'aws:s3', s3: { bucket: { name: 'procs' }, object: { size: 5 } } });
      // A second server on the same port fails with the reason, and the first one keeps serving.
      const port = Number(new URL(s3.endpoint).port);
      await expect(startLocalS3Process({ port, dataDir: dir })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect((await store.get('images/pets/cat/c.png')).toString()).toBe('bytes');
    } finally {
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    }
    await expect(fetch(s3.endpoint)).rejects.toThrow();
  }, 60_000);

  it('rejects an invalid port before starting anything', async () => {
    await expect(startLocalS3Process({ port: -1 })).rejects.toThrow(new InvalidArgumentError('port must be an integer from 0 to 65535, got -1.'));
  });
});
