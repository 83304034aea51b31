import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createZip } from '../../../layers/zip-writer.js';

/** Reads an archive with Python's zipfile: an independent implementation, so a broken writer cannot pass itself. */
function readWithPython(zip: Buffer): { name: string; size: number; mode: number; date: number[]; data: string; compress: number }[] {
  const file = join(mkdtempSync(join(tmpdir(), 'zip-')), 'a.zip');
  writeFileSync(file, zip);
  const script = [
    'import json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'assert z.testzip() is None',
    'print(json.dumps([{"name": i.filename, "size": i.file_size, "mode": i.external_attr >> 16, "date": list(i.date_time),',
    '  "compress": i.compress_type, "data": z.read(i).hex()} for i in z.infolist()]))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

describe('createZip', () => {
  it('writes entries another zip reader extracts byte for byte, in the given order', () => {
    const binary = randomBytes(4096); // incompressible: stored
    const text = Buffer.from('tf.layers.dense '.repeat(200)); // compressible: deflated
    const entries = [
      { name: 'nodejs/node_modules/a/package.json', data: Buffer.from('{"name":"a"}') },
      { name: 'nodejs/node_modules/a/dist/x.wasm', data: binary },
      { name: 'nodejs/node_modules/ü/index.js', data: text },
      { name: 'empty.txt', data: Buffer.alloc(0) },
    ];

    const listed = readWithPython(createZip(entries));

    expect(listed.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    expect(listed.map((e) => e.data)).toEqual(entries.map((e) => e.data.toString('hex')));
    expect(listed[1].compress).toBe(0);
    expect(listed[2].compress).toBe(8);
  });

  it('fixes timestamps and modes so the bytes depend on content only', () => {
    const entries = [{ name: 'a.js', data: Buffer.from('x') }];

    const first = createZip(entries);
    const listed = readWithPython(first);

    expect(createZip(entries).equals(first)).toBe(true);
    expect(listed[0].date).toEqual([1980, 1, 1, 0, 0, 0]);
    expect(listed[0].mode).toBe(0o100644);
  });

  it.each([
    [[{ name: 'a', data: Buffer.from('1') }, { name: 'a', data: Buffer.from('2') }], "duplicate zip entry 'a'"],
    [[{ name: '../evil', data: Buffer.from('1') }], "invalid zip entry name '../evil'"],
    [[{ name: '/abs', data: Buffer.from('1') }], "invalid zip entry name '/abs'"],
    [[{ name: 'a\\b', data: Buffer.from('1') }], "invalid zip entry name 'a\\b'"],
  ])('rejects unsafe or duplicate names', (entries, message) => {
    expect(() => createZip(entries)).toThrow(message);
  });
});
