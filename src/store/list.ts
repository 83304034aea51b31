import { InvalidArgumentError } from '../errors.js';
import type { ListOptions, ListResult, ObjectInfo } from './types.js';

/** Follows continuation tokens page by page; shared by every store's `listAll`. */
export async function* paginate(
  list: (prefix: string, options: ListOptions) => Promise<ListResult>,
  prefix: string,
): AsyncIterable<ObjectInfo> {
  let continuationToken: string | undefined;
  do {
    const page = await list(prefix, { continuationToken });
    yield* page.objects;
    continuationToken = page.nextToken;
  } while (continuationToken !== undefined);
}

/** Where the memory store's listing resumes: after a key, or after every key under a rolled-up prefix. */
export interface ListCursor {
  after: string;
  isPrefix: boolean;
}

export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.after, cursor.isPrefix]), 'utf8').toString('base64url');
}

export function decodeCursor(token: string): ListCursor {
  try {
    const [after, isPrefix] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (typeof after === 'string' && typeof isPrefix === 'boolean') return { after, isPrefix };
  } catch {
    // falls through to the error below: a token we did not write
  }
  throw new InvalidArgumentError('The continuation token provided is incorrect.');
}
