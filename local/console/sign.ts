import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { InvalidArgumentError } from '../../src/errors.js';
import { Sha256 } from '../sha256.js';

/** The region of an execute-api URL (abc123.execute-api.eu-west-1.amazonaws.com), else undefined. */
export function executeApiRegion(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

export interface SigningOptions {
  /** @default the region in the API's execute-api host name */
  region?: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** What a request to sign is: the target URL, method, headers (lower-case names) and body. */
export interface OutgoingRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/**
 * Signs requests to an IAM-authorized API Gateway stage with SigV4 (service execute-api), as the AWS SDK and
 * `curl --aws-sigv4` do: the deployed API's default auth. Returns the headers to send, `host` included in the
 * signature (fetch sets the same value from the URL).
 */
export function createSigner(api: URL, options: SigningOptions): (request: OutgoingRequest) => Promise<Record<string, string>> {
  const region = options.region ?? executeApiRegion(api);
  if (!region) {
    throw new InvalidArgumentError(`Cannot tell the AWS region of ${api.host} to sign requests: pass --region (or set AWS_REGION).`);
  }
  const signer = new SignatureV4({ service: 'execute-api', region, credentials: options.credentials, sha256: Sha256 });
  return async ({ url, method, headers, body }) => {
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      body,
    });
    return signed.headers;
  };
}
