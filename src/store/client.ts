import { S3Client } from '@aws-sdk/client-s3';
import { InvalidArgumentError, listValues } from '../errors.js';
import { localCredentials, type LocalS3Credentials } from './local-credentials.js';

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0']);
const PROTOCOLS = ['http:', 'https:'] as const;

export interface S3ClientOptions {
  /** Endpoint override, e.g. the embedded server's `http://127.0.0.1:4569`. @default AWS */
  endpoint?: string;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  region?: string;
  /** @default true for a local endpoint, else false (virtual-hosted style, as AWS prefers) */
  forcePathStyle?: boolean;
  /**
   * Treat the endpoint as the embedded server (its credentials, path style, checksums only when
   * required) even when it is not a loopback address, e.g. a container name. @default loopback endpoint
   */
  local?: boolean;
  /**
   * What a local client signs with. @default the embedded server's, found when the client first signs
   * (see `localCredentials`: a server in this process, HEADSTART_S3_ACCESS_KEY_ID/…, or the data directory)
   */
  credentials?: LocalS3Credentials;
}

/**
 * Creates the process's S3 client. Every client resolves each command kind's middleware stack once
 * (`cacheMiddleware`: the SDK otherwise rebuilds and sorts it on every request, about 0.3–0.5 ms of CPU each
 * here; nothing of ours adds middleware to a client or a command, and the presigner resolves its own stack).
 * Against AWS it is otherwise the SDK default. Against a local endpoint it
 * uses path-style URLs, the embedded server's per-installation credentials, and sends or checks checksums only when an
 * operation requires them: with the SDK's default flexible checksums a stream body goes out
 * aws-chunked, and s3rver stores that framing as if it were the object's bytes.
 */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  if (options.endpoint === undefined) {
    return new S3Client({ region, forcePathStyle: options.forcePathStyle, cacheMiddleware: true });
  }
  const { endpoint } = options;
  const local = options.local ?? isLocalEndpoint(endpoint);
  if (!local) return new S3Client({ region, endpoint, forcePathStyle: options.forcePathStyle, cacheMiddleware: true });
  return new S3Client({
    region,
    cacheMiddleware: true,
    endpoint,
    forcePathStyle: options.forcePathStyle ?? true,
    credentials: options.credentials ?? (() => localCredentials(endpoint)),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** True for an http(s) URL on a loopback host. Throws on anything that is not an http(s) URL. */
export function isLocalEndpoint(endpoint: string): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (err) {
    throw new InvalidArgumentError(`S3 endpoint '${endpoint}' is not a URL, e.g. 'http://127.0.0.1:4569'.`, { cause: err });
  }
  if (!(PROTOCOLS as readonly string[]).includes(url.protocol)) {
    throw new InvalidArgumentError(`S3 endpoint '${endpoint}' has protocol '${url.protocol}'; expected ${listValues(PROTOCOLS)}.`);
  }
  return LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.') || url.hostname.endsWith('.localhost');
}
