import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { ObjectNotFoundError } from '../../src/store/errors.js';
import type { ObjectStore } from '../../src/store/types.js';

export interface StoreFixture {
  store: ObjectStore;
  teardown?: () => Promise<void>;
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function listAllKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.listAll(prefix)) keys.push(o.key);
  return keys;
}

/** Tests an implementation cannot pass, by name, and why (hono's `runTest({ skip: [{ reason, tests }] })`). */
export interface SuiteSkip {
  reason: string;
  tests: readonly string[];
}

/**
 * The ObjectStore contract: every implementation runs this same suite (Hono's common-case pattern).
 * The factory runs once; each test works under a fresh random prefix of the one store. A skipped test
 * stays in the report with its reason; a skip naming no test of the suite fails the suite.
 */
export function describeObjectStore(name: string, factory: () => Promise<StoreFixture> | StoreFixture, options: { skip?: readonly SuiteSkip[] } = {}): void {
  const skipped = new Map((options.skip ?? []).flatMap((s) => s.tests.map((test) => [test, s.reason] as const)));
  const named = new Set<string>();
  const it = (title: string, fn: () => Promise<void>): void => {
    named.add(title);
    const reason = skipped.get(title);
    if (reason === undefined) test(title, fn);
    else test.skip(`${title} (skipped for ${name}: ${reason})`, fn);
  };
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: ObjectStore;
    let prefix: string;

    beforeAll(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.teardown?.();
    });
    beforeEach(() => {
      prefix = `contract/${randomUUID()}/`;
    });

    it('round-trips a binary body byte-exact, with its MD5 as etag', async () => {
      const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(64 * 1024)]);
      await store.put(`${prefix}blob.bin`, body);
      const read = await store.get(`${prefix}blob.bin`);
      expect(read.equals(body)).toBe(true);
      const info = await store.head(`${prefix}blob.bin`);
      expect(info).toMatchObject({ key: `${prefix}blob.bin`, size: body.length, etag: md5(body) });
      expect(info?.lastModified).toBeInstanceOf(Date);
    });

    it('accepts string and Uint8Array bodies', async () => {
      await store.put(`${prefix}text.txt`, 'héllo ✓');
      await store.put(`${prefix}bytes.bin`, new Uint8Array([0, 255, 1, 254]));
      expect((await store.get(`${prefix}text.txt`)).toString('utf8')).toBe('héllo ✓');
      expect([...(await store.get(`${prefix}bytes.bin`))]).toEqual([0, 255, 1, 254]);
    });

    it('keeps keys with spaces, unicode, plus signs and deep prefixes intact', async () => {
      const names = ['a b.jpg', 'über/naïve ✓ 猫.png', 'x+y=z&w.bin', 'd1/d2/d3/d4/d5/deep.txt', "parens (1)!'*.txt"];
      for (const n of names) await store.put(`${prefix}${n}`, `body of ${n}`);
      for (const n of names) expect((await store.get(`${prefix}${n}`)).toString()).toBe(`body of ${n}`);
      const expected = names.map((n) => `${prefix}${n}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(await listAllKeys(store, prefix)).toEqual(expected);
    });

    it('round-trips content type and metadata, with metadata keys lower-cased', async () => {
      await store.put(`${prefix}meta.json`, '{}', {
        contentType: 'application/json',
        metadata: { Source: 'upload', 'model-digest': 'sha256-abc' },
      });
      const info = await store.head(`${prefix}meta.json`);
      expect(info?.contentType).toBe('application/json');
      expect(info?.metadata).toEqual({ source: 'upload', 'model-digest': 'sha256-abc' });
    });

    it('reports a missing key as undefined from head and false from exists', async () => {
      expect(await store.head(`${prefix}missing.jpg`)).toBeUndefined();
      expect(await store.exists(`${prefix}missing.jpg`)).toBe(false);
      await store.put(`${prefix}present.jpg`, 'x');
      expect(await store.exists(`${prefix}present.jpg`)).toBe(true);
    });

    it('throws ObjectNotFoundError (NoSuchKey) from get and getStream of a missing key', async () => {
      const key = `${prefix}missing.jpg`;
      const err = await store.get(key).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectNotFoundError);
      expect(err).toMatchObject({ code: 'NoSuchKey', key, bucket: store.bucket, transient: false });
      expect((err as Error).message).toBe(`Object '${key}' does not exist in bucket '${store.bucket}'.`);
      await expect(store.getStream(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('overwrites a key and deletes it; deleting a missing key is no error', async () => {
      await store.put(`${prefix}k`, 'one');
      await store.put(`${prefix}k`, 'two');
      expect((await store.get(`${prefix}k`)).toString()).toBe('two');
      await store.delete(`${prefix}k`);
      expect(await store.exists(`${prefix}k`)).toBe(false);
      await expect(store.delete(`${prefix}k`)).resolves.toBeUndefined();
    });

    it('paginates 5 keys 2 at a time, in key order', async () => {
      const keys = ['e', 'a', 'c', 'b', 'd'].map((k) => `${prefix}${k}.jpg`);
      for (const k of keys) await store.put(k, k);
      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await store.list(prefix, { maxKeys: 2, continuationToken: token });
        pages.push(page.objects.map((o) => o.key));
        token = page.nextToken;
      } while (token !== undefined);
      expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']].map((p) => p.map((k) => `${prefix}${k}.jpg`)));
      expect(await listAllKeys(store, prefix)).toEqual([...keys].sort());
    });

    it('rolls keys up to common prefixes with a delimiter', async () => {
      // dogs/ holds keys two levels down only, like images/<dataset>/<label>/<file> listed at images/.
      for (const k of ['top.jpg', 'cats/1.jpg', 'cats/2.jpg', 'dogs/a/1.jpg', 'dogs/b/2.jpg']) await store.put(`${prefix}${k}`, k);
      const page = await store.list(prefix, { delimiter: '/' });
      expect(page.objects.map((o) => o.key)).toEqual([`${prefix}top.jpg`]);
      expect(page.objects[0]).toMatchObject({ size: 7, etag: md5(Buffer.from('top.jpg')) });
      expect(page.commonPrefixes).toEqual([`${prefix}cats/`, `${prefix}dogs/`]);
      expect(page.nextToken).toBeUndefined();
    });

    it('counts common prefixes against maxKeys and lists each once across pages', async () => {
      for (const k of ['a/1', 'a/2', 'a/x/3', 'b', 'c/d/1', 'e']) await store.put(`${prefix}${k}`, k);
      const first = await store.list(prefix, { delimiter: '/', maxKeys: 2 });
      expect(first.objects.map((o) => o.key)).toEqual([`${prefix}b`]);
      expect(first.commonPrefixes).toEqual([`${prefix}a/`]);
      const second = await store.list(prefix, { delimiter: '/', maxKeys: 2, continuationToken: first.nextToken });
      expect(second.objects.map((o) => o.key)).toEqual([`${prefix}e`]);
      expect(second.commonPrefixes).toEqual([`${prefix}c/`]);
      expect(second.nextToken).toBeUndefined();
    });

    it('orders keys by UTF-8 bytes across pages, a key before its longer siblings', async () => {
      // '-' < '.' < '/' in ASCII: a directory-walk order would list 'x/1' or 'x-1' first and lose keys.
      const keys = ['x/1', 'x.a', 'x', 'x-1', 'x0', 'w/deep/er/key'].map((k) => `${prefix}${k}`);
      for (const k of keys) await store.put(k, k);
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.list(prefix, { maxKeys: 1, continuationToken: token });
        seen.push(...page.objects.map((o) => o.key));
        token = page.nextToken;
      } while (token !== undefined);
      expect(seen).toEqual(['w/deep/er/key', 'x', 'x-1', 'x.a', 'x/1', 'x0'].map((k) => `${prefix}${k}`));
    });

    it('streams a body in and out', async () => {
      const chunks = [randomBytes(100_000), randomBytes(70_000), randomBytes(3)];
      await store.put(`${prefix}stream.bin`, Readable.from(chunks), { contentType: 'image/jpeg' });
      const read = await collect(await store.getStream(`${prefix}stream.bin`));
      expect(read.equals(Buffer.concat(chunks))).toBe(true);
      expect(await store.head(`${prefix}stream.bin`)).toMatchObject({ size: 170_003, contentType: 'image/jpeg' });
    });

    it('stores a body above the multipart threshold byte-exact', async () => {
      const body = randomBytes(9 * 1024 * 1024 + 17);
      await store.put(`${prefix}big.bin`, body);
      const read = await store.get(`${prefix}big.bin`);
      expect(read.length).toBe(body.length);
      expect(read.equals(body)).toBe(true);
    });

    it('rejects an empty key, a bad maxKeys and a foreign continuation token with InvalidArgumentError', async () => {
      await expect(store.put('', 'x')).rejects.toThrow(new InvalidArgumentError('Object key must be a non-empty string.'));
      await expect(store.list(prefix, { maxKeys: 0 })).rejects.toThrow('maxKeys must be an integer from 1 to 1000, got 0.');
      await store.put(`${prefix}a`, 'a');
      await expect(store.list(prefix, { continuationToken: 'bm90LWEtdG9rZW4' })).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    test('skips only tests the suite has', () => {
      expect([...skipped.keys()].filter((title) => !named.has(title))).toEqual([]);
    });
  });
}
