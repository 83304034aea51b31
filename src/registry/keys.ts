import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { HEADS, POINTER_FILE, type ModelKind } from './kinds.js';
import { modelPrefix as layoutModelPrefix } from '../layout.js';

export { POINTER_FILE } from './kinds.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Model ids are one path segment: 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export function validateModelId(kind: ModelKind, id: string): string {
  if (typeof id !== 'string' || !ID.test(id)) {
    throw new InvalidArgumentError(
      `Invalid ${kind.noun} id ${JSON.stringify(id)}: use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
    );
  }
  return id;
}

/** `models/<kind>/<id>/`. */
export function modelPrefix(kind: ModelKind, id: string): string {
  return layoutModelPrefix(kind.prefix, validateModelId(kind, id));
}

export function modelFileKey(kind: ModelKind, id: string, file: string): string {
  return `${modelPrefix(kind, id)}${file}`;
}

export function modelPointerKey(kind: ModelKind, id: string): string {
  return modelFileKey(kind, id, POINTER_FILE);
}

/** The model id of a pointer key of this kind, or undefined for any other key. */
export function modelIdOfPointer(kind: ModelKind, key: string): string | undefined {
  if (!key.startsWith(kind.prefix) || !key.endsWith(`/${POINTER_FILE}`)) return undefined;
  const id = key.slice(kind.prefix.length, -POINTER_FILE.length - 1);
  return ID.test(id) ? id : undefined;
}

/** UTC `YYYYMMDD-HHMMSS`: ids sort by creation time. */
export function timestampId(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/**
 * `<dataset>[-<tag>]-<YYYYMMDD-HHMMSS>-<6 hex>`: readable, sortable per dataset, unique without
 * coordination, and at most 128 characters whatever the dataset's name.
 */
export function newModelId(dataset: string, now: Date = new Date(), tag?: string): string {
  const suffix = `${tag ? `-${tag}` : ''}-${timestampId(now)}-${randomBytes(3).toString('hex')}`;
  return `${dataset.slice(0, 96 - (tag ? tag.length + 4 : 0))}${suffix}`;
}

// The head kind's names for the same rules (heads came first; the classify and API code use these).

/** `models/heads/`. */
export const HEADS_PREFIX = HEADS.prefix;
/** The files of a head, in the order they are written. */
export const HEAD_FILES = HEADS.files;
export const validateHeadId = (headId: string): string => validateModelId(HEADS, headId);
export const headPrefix = (headId: string): string => modelPrefix(HEADS, headId);
export const headFileKey = (headId: string, file: string): string => modelFileKey(HEADS, headId, file);
export const pointerKey = (headId: string): string => modelPointerKey(HEADS, headId);
export const newHeadId = (dataset: string, now?: Date): string => newModelId(dataset, now);
