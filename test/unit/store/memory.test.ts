import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../src/store/memory.js';
import { describeObjectStore } from '../../helpers/store-suite.js';

describeObjectStore('MemoryStore', () => ({ store: new MemoryStore('unit') }));

describe('MemoryStore specifics', () => {
  it('sorts keys by UTF-8 bytes as S3 does, not by UTF-16 code units', async () => {
    const store = new MemoryStore();
    // U+FF5E sorts before U+1F600 in UTF-8 but after its surrogate pair in UTF-16.
    await store.put('\u{1F600}', 'emoji');
    await store.put('\uFF5E', 'tilde');
    expect((await store.list('')).objects.map((o) => o.key)).toEqual(['\uFF5E', '\u{1F600}']);
  });

  it('keeps its own copy of a body the caller changes afterwards', async () => {
    const store = new MemoryStore();
    const body = Buffer.from('abc');
    await store.put('k', body);
    body[0] = 0x7a;
    expect((await store.get('k')).toString()).toBe('abc');
  });
});
