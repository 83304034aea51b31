import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

/** `models/heads/<headId>/`: one folder per head (DESIGN.md storage layout). */
export const HEADS_PREFIX = 'models/heads/';

/** The files of a head, in the order they are written; the pointer comes after all of them. */
export const HEAD_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  info: 'head.json',
  metrics: 'metrics.json',
} as const;

/** Written last: a head exists for readers exactly when this object does. */
export const POINTER_FILE = '_published.json';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function headPrefix(headId: string): string {
  return `${HEADS_PREFIX}${headId}/`;
}

export function headFileKey(headId: string, file: string): string {
  return `${headPrefix(headId)}${file}`;
}

export function pointerKey(headId: string): string {
  return headFileKey(headId, POINTER_FILE);
}

/** The head id of a pointer key, or undefined for any other key under models/heads/. */
export function headIdOfPointer(key: string): string | undefined {
  if (!key.startsWith(HEADS_PREFIX) || !key.endsWith(`/${POINTER_FILE}`)) return undefined;
  const id = key.slice(HEADS_PREFIX.length, -POINTER_FILE.length - 1);
  return ID.test(id) ? id : undefined;
}

/** Head ids are one path segment: 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export function validateHeadId(headId: string): string {
  if (typeof headId !== 'string' || !ID.test(headId)) {
    throw new InvalidArgumentError(
      `Invalid head id ${JSON.stringify(headId)}: use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
    );
  }
  return headId;
}

/** UTC `YYYYMMDD-HHMMSS`: ids sort by creation time. */
export function timestampId(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `<dataset>-<YYYYMMDD-HHMMSS>-<6 hex>`: readable, sortable per dataset, unique without coordination. */
export function newHeadId(dataset: string, now: Date = new Date()): string {
  return `${dataset.slice(0, 96)}-${timestampId(now)}-${randomBytes(3).toString('hex')}`;
}
