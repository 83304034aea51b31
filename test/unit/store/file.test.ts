import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectNotFoundError } from '../../../src/store/errors.js';
import { FileStore } from '../../../src/store/file.js';
import { describeObjectStore } from '../../helpers/store-suite.js';

describeObjectStore(
  'FileStore',
  () => {
    const root = mkdtempSync(join(tmpdir(), 'hs-filestore-suite-'));
    return { store: new FileStore(root), teardown: async () => rmSync(root, { recursive: true, force: true }) };
  },
  {
    skip: [
      {
        reason: 'a folder keeps no ETag, content type or metadata (S3 notions that `headstart extract <dir>` does not need)',
        tests: [
          'round-trips a binary body byte-exact, with its MD5 as etag',
          'round-trips content type and metadata, with metadata keys lower-cased',
          'rolls keys up to common prefixes with a delimiter',
          'streams a body in and out',
        ],
      },
      { reason: "a file and a folder cannot share a name, so keys 'x' and 'x/1' cannot both exist", tests: ['orders keys by UTF-8 bytes across pages, a key before its longer siblings'] },
    ],
  },
);

describe('FileStore (a folder laid out like the bucket)', () => {
  const root = mkdtempSync(join(tmpdir(), 'hs-filestore-'));
  const store = new FileStore(root);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('round-trips bodies under nested keys and leaves no temp files', async () => {
    await store.put('images/d/cat/a b.jpg', Buffer.from([1, 2, 3]));
    await store.put('features/ns/x.safetensors', 'hello');
    expect([...(await store.get('images/d/cat/a b.jpg'))]).toEqual([1, 2, 3]);
    expect(await store.head('features/ns/x.safetensors')).toMatchObject({ key: 'features/ns/x.safetensors', size: 5 });
    expect(readdirSync(join(root, 'images/d/cat'))).toEqual(['a b.jpg']);
  });

  it('lists in S3 key order with pagination and delimiters', async () => {
    for (const k of ['images/d/dog/2.jpg', 'images/d/dog/1.jpg', 'images/e/cat/1.jpg']) await store.put(k, k);
    const all: string[] = [];
    for await (const o of store.listAll('images/d/')) all.push(o.key);
    expect(all).toEqual(['images/d/cat/a b.jpg', 'images/d/dog/1.jpg', 'images/d/dog/2.jpg']);
    const page = await store.list('images/d/', { maxKeys: 2 });
    expect(page.objects.map((o) => o.key)).toEqual(['images/d/cat/a b.jpg', 'images/d/dog/1.jpg']);
    const next = await store.list('images/d/', { maxKeys: 2, continuationToken: page.nextToken });
    expect(next.objects.map((o) => o.key)).toEqual(['images/d/dog/2.jpg']);
    expect((await store.list('images/', { delimiter: '/' })).commonPrefixes).toEqual(['images/d/', 'images/e/']);
  });

  it('treats missing keys as S3 does and refuses keys that escape the folder', async () => {
    await expect(store.get('images/none.jpg')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.exists('images/none.jpg')).toBe(false);
    await expect(store.delete('images/none.jpg')).resolves.toBeUndefined();
    await expect(store.get('images/../../etc/passwd')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await store.delete('features/ns/x.safetensors');
    expect(await store.exists('features/ns/x.safetensors')).toBe(false);
  });
});
