import { Readable } from 'node:stream';
import type { ObjectBody } from './types.js';

/**
 * Reads any accepted body into one Buffer of its own: a copy, so a caller reusing its array
 * afterwards cannot change what the memory store holds.
 */
export async function bodyToBuffer(body: ObjectBody): Promise<Buffer> {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** The size of a body known up front, or undefined for a stream. */
export function knownLength(body: ObjectBody): number | undefined {
  if (typeof body === 'string') return Buffer.byteLength(body, 'utf8');
  if (body instanceof Uint8Array) return body.byteLength;
  return undefined;
}

export function isStream(body: ObjectBody): body is Readable {
  return body instanceof Readable || (typeof body === 'object' && body !== null && 'pipe' in body && typeof body.pipe === 'function');
}
