import { afterEach, describe, expect, it, vi } from 'vitest';
import { createExtractHandler } from '../../../functions/extract/handler.js';
import { metrics } from '../../../functions/shared/metrics.js';
import type { IngestOutcome, IngestRecord } from '../../../src/features/ingest.js';
import { lambdaContext } from '../../helpers/events.js';

/** An SQS batch: one message per group of keys, each an S3 notification. */
function sqsEvent(groups: string[][]) {
  return {
    Records: groups.map((keys, i) => ({
      messageId: `m${i}`,
      eventSource: 'aws:sqs',
      body: JSON.stringify({ Records: keys.map((key) => ({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key } } })) }),
    })),
  };
}

/** An ingestor that answers each key by its name: 'slow' is transient, 'bad' a bad image, the rest extract. */
function fakeIngestor() {
  const calls: string[][] = [];
  const ingest = async (records: IngestRecord[]): Promise<IngestOutcome[]> => {
    calls.push(records.map((r) => r.key));
    return records.map(({ key }) =>
      key.includes('slow') ? { key, status: 'retry', code: 'SlowDown', reason: 'throttled' } : key.includes('bad') ? { key, status: 'failed', code: 'NotAnImage', reason: 'no' } : { key, status: 'extracted' },
    );
  };
  return { ingestor: { ingest }, calls };
}

afterEach(() => vi.restoreAllMocks());

describe('the extract handler', () => {
  it('runs the whole batch through one ingest call and returns only the messages with a transient failure', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const added = vi.spyOn(metrics, 'addMetric');
    const { ingestor, calls } = fakeIngestor();
    const handler = createExtractHandler(async () => ({ ingestor }));

    const result = await handler(sqsEvent([['images/d/cat/a.jpg', 'images/d/cat/bad.jpg'], ['images/d/dog/slow.jpg'], ['images/d/dog/b.jpg']]), lambdaContext());

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(calls).toEqual([['images/d/cat/a.jpg', 'images/d/cat/bad.jpg', 'images/d/dog/slow.jpg', 'images/d/dog/b.jpg']]);
    expect(added.mock.calls.map(([name, , value]) => [name, value])).toEqual([
      ['ImagesExtracted', 2],
      ['ExtractionFailures', 1],
      ['ExtractionRetries', 1],
    ]);
  });

  it('returns every message when the batch fails as a whole', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const handler = createExtractHandler(async () => ({
      ingestor: {
        ingest: async () => {
          throw new Error('the model failed to load');
        },
      },
    }));

    const result = await handler(sqsEvent([['images/d/cat/a.jpg'], ['images/d/dog/b.jpg']]), lambdaContext());

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }] });
  });

  it('a direct S3 invocation answers its outcomes, and throws TransientIngest when one must be retried', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { ingestor } = fakeIngestor();
    const handler = createExtractHandler(async () => ({ ingestor }));
    const direct = (key: string) => ({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key } } }] });

    expect(await handler(direct('images/d/cat/a.jpg'), lambdaContext())).toEqual({ outcomes: [{ key: 'images/d/cat/a.jpg', status: 'extracted' }] });
    await expect(handler(direct('images/d/cat/slow.jpg'), lambdaContext())).rejects.toMatchObject({ code: 'TransientIngest' });
  });
});
