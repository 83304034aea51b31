import { crc32, deflateRawSync } from 'node:zlib';

/**
 * A minimal, reproducible ZIP writer (PKWARE APPNOTE 6.3.x, no ZIP64). The same entries always give the same
 * bytes: entries are written in the order given (callers sort), every timestamp is the DOS epoch and every
 * permission is 0644, so the archive hash only changes when content does. That is what lets CDK hash the layer
 * by its output and skip a republish when nothing changed. No system `zip`, no dependency.
 */

export interface ZipEntry {
  /** Path inside the archive, '/'-separated, no leading '/'. */
  readonly name: string;
  readonly data: Buffer;
}

// DOS date 1980-01-01 00:00:00 (day 1, month 1, year 0 since 1980): the smallest valid DOS timestamp.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
// "Version made by": host 3 (UNIX) so external attributes carry a mode; spec version 2.0 (deflate).
const MADE_BY = (3 << 8) | 20;
const NEEDED = 20;
const FLAG_UTF8 = 0x0800;
const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;
const REGULAR_FILE_0644 = (0o100644 << 16) >>> 0;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffffffff;

interface Written {
  readonly name: Buffer;
  readonly crc: number;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly offset: number;
}

/** Builds the archive in memory and returns its bytes. Throws when a limit of plain ZIP would be exceeded. */
export function createZip(entries: readonly ZipEntry[]): Buffer {
  if (entries.length > MAX_U16) throw new RangeError(`too many zip entries (${entries.length}); ZIP64 is not supported`);
  assertUniqueNames(entries);
  const chunks: Buffer[] = [];
  const written: Written[] = [];
  let offset = 0;
  for (const entry of entries) {
    const record = compressEntry(entry, offset);
    const header = localHeader(record);
    chunks.push(header, record.body);
    written.push(record);
    offset += header.length + record.body.length;
  }
  const centralStart = offset;
  for (const record of written) {
    const header = centralHeader(record);
    chunks.push(header);
    offset += header.length;
  }
  if (offset > MAX_U32) throw new RangeError('zip larger than 4 GiB; ZIP64 is not supported');
  chunks.push(endOfCentralDirectory(written.length, offset - centralStart, centralStart));
  return Buffer.concat(chunks);
}

function assertUniqueNames(entries: readonly ZipEntry[]): void {
  const seen = new Set<string>();
  for (const { name } of entries) {
    if (name.startsWith('/') || name.includes('\\') || name.split('/').includes('..')) {
      throw new RangeError(`invalid zip entry name '${name}': use a relative '/'-separated path without '..'`);
    }
    if (seen.has(name)) throw new RangeError(`duplicate zip entry '${name}'`);
    seen.add(name);
  }
}

function compressEntry(entry: ZipEntry, offset: number): Written & { body: Buffer } {
  const deflated = deflateRawSync(entry.data, { level: 9 });
  // Store instead of deflate when deflate does not help (wasm and .node binaries sometimes): smaller and faster to read.
  const useDeflate = deflated.length < entry.data.length;
  const body = useDeflate ? deflated : entry.data;
  if (entry.data.length > MAX_U32) throw new RangeError(`zip entry '${entry.name}' is larger than 4 GiB`);
  return {
    name: Buffer.from(entry.name, 'utf8'),
    crc: crc32(entry.data) >>> 0,
    method: useDeflate ? METHOD_DEFLATE : METHOD_STORE,
    compressedSize: body.length,
    size: entry.data.length,
    offset,
    body,
  };
}

function localHeader(r: Written): Buffer {
  const b = Buffer.alloc(30 + r.name.length);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(NEEDED, 4);
  b.writeUInt16LE(FLAG_UTF8, 6);
  b.writeUInt16LE(r.method, 8);
  b.writeUInt16LE(DOS_TIME, 10);
  b.writeUInt16LE(DOS_DATE, 12);
  b.writeUInt32LE(r.crc, 14);
  b.writeUInt32LE(r.compressedSize, 18);
  b.writeUInt32LE(r.size, 22);
  b.writeUInt16LE(r.name.length, 26);
  b.writeUInt16LE(0, 28); // no extra field: extra timestamps would defeat reproducibility
  r.name.copy(b, 30);
  return b;
}

function centralHeader(r: Written): Buffer {
  const b = Buffer.alloc(46 + r.name.length);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(MADE_BY, 4);
  b.writeUInt16LE(NEEDED, 6);
  b.writeUInt16LE(FLAG_UTF8, 8);
  b.writeUInt16LE(r.method, 10);
  b.writeUInt16LE(DOS_TIME, 12);
  b.writeUInt16LE(DOS_DATE, 14);
  b.writeUInt32LE(r.crc, 16);
  b.writeUInt32LE(r.compressedSize, 20);
  b.writeUInt32LE(r.size, 24);
  b.writeUInt16LE(r.name.length, 28);
  b.writeUInt16LE(0, 30); // extra length
  b.writeUInt16LE(0, 32); // comment length
  b.writeUInt16LE(0, 34); // disk number
  b.writeUInt16LE(0, 36); // internal attributes
  b.writeUInt32LE(REGULAR_FILE_0644, 38);
  b.writeUInt32LE(r.offset, 42);
  r.name.copy(b, 46);
  return b;
}

function endOfCentralDirectory(count: number, size: number, start: number): Buffer {
  const b = Buffer.alloc(22);
  b.writeUInt32LE(0x06054b50, 0);
  b.writeUInt16LE(0, 4);
  b.writeUInt16LE(0, 6);
  b.writeUInt16LE(count, 8);
  b.writeUInt16LE(count, 10);
  b.writeUInt32LE(size, 12);
  b.writeUInt32LE(start, 16);
  b.writeUInt16LE(0, 20);
  return b;
}
