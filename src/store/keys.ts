import { InvalidArgumentError } from '../errors.js';

/** S3's limit on a key: 1 to 1,024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/** The most keys one S3 list request returns. */
export const MAX_LIST_KEYS = 1000;

/** Rejects keys S3 would reject, so every store fails the same way before any request. */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError('Object key must be a non-empty string.');
  }
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(`Object key is ${bytes} bytes of UTF-8; S3 allows at most ${MAX_KEY_BYTES}.`);
  }
}

/** Validates `maxKeys` and caps it at S3's 1,000. */
export function resolveMaxKeys(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return MAX_LIST_KEYS;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new InvalidArgumentError(`maxKeys must be an integer from 1 to ${MAX_LIST_KEYS}, got ${maxKeys}.`);
  }
  return Math.min(maxKeys, MAX_LIST_KEYS);
}

/**
 * Orders keys the way S3 lists them: by UTF-8 bytes. JavaScript's default sort compares UTF-16
 * code units, which disagrees for characters above U+FFFF against U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Lower-cases metadata keys, as S3 does with `x-amz-meta-*` headers. */
export function normalizeMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) out[name.toLowerCase()] = String(value);
  return out;
}
