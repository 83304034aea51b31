import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** What a role may do under one key prefix. */
export type PrefixAccess = 'read' | 'write' | 'delete';

/** Prefix (e.g. 'images/', or 'features/*\/shards/') → what the role may do under it. */
export type PrefixGrants = Readonly<Record<string, readonly PrefixAccess[]>>;

const ACTIONS: Record<PrefixAccess, readonly string[]> = {
  // GetObject also authorises HeadObject, which is how the feature cache checks for a hit.
  read: ['s3:GetObject'],
  // lib-storage splits big bodies into multipart uploads; an abandoned one must be abortable.
  write: ['s3:PutObject', 's3:AbortMultipartUpload'],
  delete: ['s3:DeleteObject'],
};

/**
 * Grants object access under the given prefixes only, never on `bucket/*`, plus `s3:ListBucket` on the bucket.
 * ListBucket exposes key names, never content, and it is what makes S3 answer a HEAD/GET of a missing key with
 * 404 instead of 403: without it every cache miss, unknown job id or deleted model would read as "access denied".
 * (S3 documents the 404 only for ListBucket "on the bucket"; a HEAD request carries no `s3:prefix`, so a
 * prefix-conditioned grant cannot be relied on for it.)
 */
export function grantPrefixes(grantee: iam.IGrantable, bucket: s3.IBucket, grants: PrefixGrants): void {
  const byAction = new Map<string, string[]>();
  for (const [prefix, accesses] of Object.entries(grants)) {
    assertPrefix(prefix);
    for (const access of accesses) {
      for (const action of ACTIONS[access]) {
        byAction.set(action, [...(byAction.get(action) ?? []), bucket.arnForObjects(`${prefix}*`)]);
      }
    }
  }
  // One statement per access kind keeps the policy readable (and the tests able to find "who may write what").
  for (const access of Object.keys(ACTIONS) as PrefixAccess[]) {
    const actions = ACTIONS[access].filter((a) => byAction.has(a));
    if (actions.length === 0) continue;
    iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: byAction.get(actions[0]) as string[] });
  }
  iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
}

function assertPrefix(prefix: string): void {
  if (prefix === '' || prefix === '*' || !prefix.endsWith('/') || prefix.startsWith('/')) {
    throw new RangeError(`grant prefix must be a non-empty key prefix ending in '/', got '${prefix}'`);
  }
}
