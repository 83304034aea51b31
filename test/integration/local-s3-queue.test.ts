import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../local/s3/dead-letter.js';
import { LocalEventQueue, type LocalEventQueueOptions, type QueueBatchTiming } from '../../local/s3/queue.js';
import { HeadstartError, InvalidArgumentError } from '../../src/errors.js';
import { MemoryStore } from '../../src/store/memory.js';
import { captureLogger, recordingHandler, s3RecordFactory } from '../helpers/store-events.js';

function queueWith(options: Partial<LocalEventQueueOptions> & Pick<LocalEventQueueOptions, 'handler'>) {
  const store = new MemoryStore('headstart');
  const logger = captureLogger();
  const queue = new LocalEventQueue({ store, logger, batchWindowMs: 10, backoffMs: 5, ...options });
  return { queue, store, logger };
}

async function deadLetters(store: MemoryStore): Promise<DeadLetter[]> {
  const page = await store.list('errors/dead-letter/');
  return Promise.all(page.objects.map(async (o) => JSON.parse((await store.get(o.key)).toString()) as DeadLetter));
}

describe('LocalEventQueue delivery', () => {
  it('delivers only images/ records, in batches of batchSize', async () => {
    const { handler, batches } = recordingHandler();
    const { queue } = queueWith({ handler, batchSize: 2, concurrency: 1 });
    const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => `images/ds/cat/${k}.jpg`);
    queue.enqueue([...keys, 'features/vgg16@x/fc2/abc.safetensors', 'errors/ds/a.json'].map((k) => s3RecordFactory(k)));
    await queue.idle();
    expect(batches).toEqual([keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)]);
    expect(queue.stats()).toEqual({ received: 7, ignored: 2, delivered: 5, retried: 0, deadLettered: 0, deadLetterFailures: 0, pending: 0, inFlight: 0 });
  });

  it('waits up to the batching window to fill a batch', async () => {
    const { handler, batches } = recordingHandler();
    const { queue } = queueWith({ handler, batchWindowMs: 150 });
    queue.enqueue(s3RecordFactory('images/1.jpg'));
    await new Promise((r) => setTimeout(r, 20));
    queue.enqueue(s3RecordFactory('images/2.jpg'));
    await queue.idle();
    expect(batches).toEqual([['images/1.jpg', 'images/2.jpg']]);
  });

  it('reports each delivery: its records, the wait for the batch window, the handler and the ack', async () => {
    const timings: QueueBatchTiming[] = [];
    const handler = async () => void (await new Promise((r) => setTimeout(r, 30)));
    const { queue } = queueWith({ handler, batchWindowMs: 80, onBatch: (t) => timings.push(t) });
    queue.enqueue([s3RecordFactory('images/1.jpg'), s3RecordFactory('images/2.jpg')]);
    await queue.idle();
    expect(timings).toHaveLength(1);
    expect(timings[0]!.records).toBe(2);
    expect(timings[0]!.receiveMs).toBeGreaterThanOrEqual(70);
    expect(timings[0]!.handlerMs).toBeGreaterThanOrEqual(25);
    expect(timings[0]!.ackMs).toBeLessThan(timings[0]!.handlerMs);
  });

  it('runs at most `concurrency` batches at once', async () => {
    let running = 0;
    let most = 0;
    const { handler } = recordingHandler(async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
    });
    const { queue } = queueWith({ handler, batchSize: 1, concurrency: 2 });
    queue.enqueue(['1', '2', '3', '4', '5'].map((k) => s3RecordFactory(`images/${k}.jpg`)));
    await queue.idle();
    expect(most).toBe(2);
    expect(queue.stats().delivered).toBe(5);
  });

  it('applies a prefix and suffix filter to the decoded key, never delivering dead letters', async () => {
    const { handler, batches } = recordingHandler();
    const { queue } = queueWith({ handler, filter: { prefix: '', suffix: '.png' } });
    queue.enqueue(['images/a b.png', 'images/c.jpg', 'errors/dead-letter/x.png'].map((k) => s3RecordFactory(k)));
    await queue.idle();
    expect(batches).toEqual([['images/a b.png']]);
    expect(queue.stats().ignored).toBe(2);
  });
});

describe('LocalEventQueue failures', () => {
  it('retries a throwing handler 3 times in all, then writes a dead letter', async () => {
    const { handler, batches } = recordingHandler(async () => {
      throw new Error('model exploded');
    });
    const { queue, store, logger } = queueWith({ handler });
    const record = s3RecordFactory('images/ds/cat/a b+ü.jpg');
    queue.enqueue(record);
    await queue.idle();
    expect(batches).toHaveLength(3);
    expect(queue.stats()).toMatchObject({ delivered: 0, retried: 2, deadLettered: 1, pending: 0, inFlight: 0 });
    const [letter] = await deadLetters(store);
    expect(letter).toMatchObject({ key: 'images/ds/cat/a b+ü.jpg', attempts: 3, error: { name: 'Error', message: 'model exploded' }, record });
    expect(logger.lines.filter((l) => l.startsWith('warn'))).toHaveLength(2);
    expect(logger.lines.at(-1)).toMatch(/^error: event queue: 'images\/ds\/cat\/a b\+ü.jpg' failed 3 times; dead letter at 'errors\/dead-letter\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f-]{36}\.json': model exploded$/);
  });

  it('delivers on retry after one failure, with no dead letter', async () => {
    const { handler, batches } = recordingHandler(async (_, call) => {
      if (call === 1) throw new Error('cold start');
    });
    const { queue, store } = queueWith({ handler });
    queue.enqueue(s3RecordFactory('images/a.jpg'));
    await queue.idle();
    expect(batches).toEqual([['images/a.jpg'], ['images/a.jpg']]);
    expect(queue.stats()).toMatchObject({ delivered: 1, retried: 1, deadLettered: 0 });
    expect(await deadLetters(store)).toEqual([]);
  });

  it('retries only the keys a handler reports as failed, encoded or decoded', async () => {
    const { handler, batches } = recordingHandler(async (records, call) => {
      if (call === 1) return { failedKeys: [records[1]!.s3.object.key, 'images/c d.jpg'] };
    });
    const { queue } = queueWith({ handler });
    queue.enqueue(['images/a.jpg', 'images/b ü.jpg', 'images/c d.jpg'].map((k) => s3RecordFactory(k)));
    await queue.idle();
    expect(batches).toEqual([['images/a.jpg', 'images/b ü.jpg', 'images/c d.jpg'], ['images/b ü.jpg', 'images/c d.jpg']]);
    expect(queue.stats()).toMatchObject({ delivered: 3, retried: 2 });
  });

  it('backs off exponentially between tries', async () => {
    const times: number[] = [];
    const { handler } = recordingHandler(async () => {
      times.push(Date.now());
      throw new Error('no');
    });
    const { queue } = queueWith({ handler, backoffMs: 40, batchWindowMs: 0 });
    queue.enqueue(s3RecordFactory('images/a.jpg'));
    await queue.idle();
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(38);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(78);
  });

  it('counts a handler that never settles as failed after the visibility timeout', async () => {
    const { handler } = recordingHandler(() => new Promise(() => undefined));
    const { queue, store } = queueWith({ handler, visibilityTimeoutMs: 30, maxAttempts: 2 });
    queue.enqueue(s3RecordFactory('images/hang.jpg'));
    await queue.idle();
    const [letter] = await deadLetters(store);
    expect(letter?.error).toMatchObject({ code: 'HandlerTimeout', message: 'Handler did not settle within 30 ms.' });
  });

  it('fails the batch when the handler returns failedKeys that is not an array', async () => {
    const { handler } = recordingHandler(async () => ({ failedKeys: 'images/a.jpg' as unknown as string[] }));
    const { queue, store } = queueWith({ handler, maxAttempts: 1 });
    queue.enqueue(s3RecordFactory('images/a.jpg'));
    await queue.idle();
    const [letter] = await deadLetters(store);
    expect(letter?.error.message).toBe('Handler returned failedKeys "images/a.jpg"; expected an array of keys.');
  });

  it('gives each try a fresh copy of the record', async () => {
    const seen: string[] = [];
    const { handler } = recordingHandler(async (records, call) => {
      seen.push(records[0]!.eventName);
      records[0]!.eventName = 'mangled';
      if (call === 1) throw new Error('again');
    });
    const { queue } = queueWith({ handler });
    queue.enqueue(s3RecordFactory('images/a.jpg'));
    await queue.idle();
    expect(seen).toEqual(['ObjectCreated:Put', 'ObjectCreated:Put']);
  });

  it('logs the whole record when even the dead letter cannot be written', async () => {
    const { handler } = recordingHandler(async () => {
      throw new Error('bad image');
    });
    const { queue, store, logger } = queueWith({ handler, maxAttempts: 1 });
    store.put = async () => {
      throw new Error('disk full');
    };
    queue.enqueue(s3RecordFactory('images/a.jpg'));
    await queue.idle();
    expect(queue.stats()).toMatchObject({ deadLettered: 0, deadLetterFailures: 1 });
    expect(logger.lines.at(-1)).toContain(`"key":"images/a.jpg"`);
  });
});

describe('LocalEventQueue lifecycle and options', () => {
  it('close() delivers pending records without waiting out the window, then refuses new ones', async () => {
    const { handler, batches } = recordingHandler();
    const { queue } = queueWith({ handler, batchWindowMs: 60_000 });
    queue.enqueue(s3RecordFactory('images/a.jpg'));
    await queue.close();
    expect(batches).toEqual([['images/a.jpg']]);
    expect(() => queue.enqueue(s3RecordFactory('images/b.jpg'))).toThrow(HeadstartError);
  });

  it('idle() resolves at once when nothing is queued', async () => {
    const { queue } = queueWith({ handler: async () => undefined });
    await expect(queue.idle()).resolves.toBeUndefined();
  });

  it.each([
    [{ concurrency: 0 }, 'LocalEventQueue option concurrency must be an integer >= 1, got 0.'],
    [{ batchSize: 1.5 }, 'LocalEventQueue option batchSize must be an integer >= 1, got 1.5.'],
    [{ backoffMs: -1 }, 'LocalEventQueue option backoffMs must be an integer >= 0, got -1.'],
  ])('rejects %o', (options, message) => {
    expect(() => queueWith({ handler: async () => undefined, ...options })).toThrow(new InvalidArgumentError(message));
  });
});
