/**
 * Makes s3rver's paginated ListObjectsV2 work on OpenSSL 3 without `--openssl-legacy-provider`.
 *
 * s3rver 3.7.1 builds continuation tokens with DES, which OpenSSL 3 only offers in its legacy
 * provider: every truncated ListObjectsV2 page fails with a 500 ('digital envelope routines::
 * unsupported'), for the SDK, the AWS CLI and any other client alike, and Node cannot load that
 * provider at run time. So this wraps the bucket controller's `getBucket`: a list-type=2 request is
 * answered by s3rver's own ListObjects V1 code path (marker-based, no cipher) and the response is
 * rewritten into the V2 shape, with an opaque token of our own. The wrapper runs after s3rver's
 * signature check and restores the query before returning, so signed requests verify as before.
 * It also makes V1's NextMarker the last entry returned, a common prefix included, as S3 does.
 */
import { compareKeys } from '../../src/store/keys.js';
import { bucketController, S3Error, type S3rverContext } from './s3rver.js';

const TOKEN_PREFIX = 'headstart-v1';
const V2_ONLY_PARAMS = ['list-type', 'continuation-token', 'start-after', 'fetch-owner'] as const;

type ListBucketResult = Record<string, unknown> & {
  Contents: { Key: string; Owner?: unknown }[];
  CommonPrefixes: { Prefix: string }[];
  IsTruncated: boolean;
};

/** Marks the wrapper; a symbol from the global registry, so a second copy of this module sees it too. */
const INSTALLED = Symbol.for('headstart.local-s3.list-objects-fix');

/** Installs the fix once per process: s3rver's controller module is process-wide, so is the fix. */
export function installListObjectsFix(): void {
  if (INSTALLED in bucketController.getBucket) return;
  const original = bucketController.getBucket;
  const fixed = async function getBucketWithoutDes(ctx: S3rverContext): Promise<void> {
    const query = ctx.query;
    const v2 = query['list-type'] === '2';
    if (v2) {
      const token = query['continuation-token'];
      ctx.query = toV1Query(query, token ? decodeToken(token, ctx.params.bucket) : query['start-after']);
    }
    try {
      await original(ctx);
    } finally {
      ctx.query = query;
    }
    const body = ctx.body as { ListBucketResult: ListBucketResult };
    ctx.body = { ListBucketResult: v2 ? toV2(body.ListBucketResult, query, ctx.params.bucket) : withNextMarker(body.ListBucketResult) };
  };
  bucketController.getBucket = Object.assign(fixed, { [INSTALLED]: true });
}

export function encodeToken(bucket: string, lastEntry: string): string {
  return Buffer.from(`${TOKEN_PREFIX}/${bucket}/${lastEntry}`, 'utf8').toString('base64');
}

/** The key or common prefix to start after; S3's own error for a token from elsewhere. */
export function decodeToken(token: string, bucket: string): string {
  const text = Buffer.from(token, 'base64').toString('utf8');
  const head = `${TOKEN_PREFIX}/${bucket}/`;
  if (!text.startsWith(head) || text.length === head.length) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return text.slice(head.length);
}

function toV1Query(query: Record<string, string>, startAfter: string | undefined): Record<string, string> {
  const v1 = { ...query };
  for (const name of V2_ONLY_PARAMS) delete v1[name];
  if (startAfter) v1.marker = startAfter;
  return v1;
}

/** The last key or common prefix of the page: where the next page starts after. */
function lastEntry(result: ListBucketResult): string | undefined {
  const key = result.Contents.at(-1)?.Key;
  const prefix = result.CommonPrefixes.at(-1)?.Prefix;
  if (key === undefined || prefix === undefined) return key ?? prefix;
  return compareKeys(key, prefix) > 0 ? key : prefix;
}

function withNextMarker(result: ListBucketResult): ListBucketResult {
  const next = result.IsTruncated && result.Delimiter ? lastEntry(result) : undefined;
  return { ...result, NextMarker: next };
}

/** Rewrites a V1 ListBucketResult into the V2 fields. */
function toV2(result: ListBucketResult, query: Record<string, string>, bucket: string): ListBucketResult {
  const { Marker: _marker, NextMarker: _nextMarker, Contents, CommonPrefixes, IsTruncated, ...rest } = result;
  const last = lastEntry(result);
  const fetchOwner = query['fetch-owner'] === 'true';
  return {
    ...rest,
    StartAfter: query['continuation-token'] ? undefined : query['start-after'],
    ContinuationToken: query['continuation-token'] || undefined,
    NextContinuationToken: IsTruncated && last !== undefined ? encodeToken(bucket, last) : undefined,
    KeyCount: Contents.length + CommonPrefixes.length,
    IsTruncated,
    Contents: fetchOwner ? Contents : Contents.map((c) => ({ ...c, Owner: undefined })),
    CommonPrefixes,
  };
}
