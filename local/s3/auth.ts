/**
 * Who may call the embedded S3 server: only holders of its credentials, as S3 decides it. Every request
 * but a CORS preflight carries an AWS Signature Version 4, in the Authorization header or in a presigned
 * URL's query, and the signature is recomputed here with the server's secret by @smithy/signature-v4 (the
 * SDK's own signer, S3 flavour: the path as sent, not normalised) over the request as it arrived, then
 * compared in constant time. Anything else is refused with S3's error: AccessDenied, SignatureDoesNotMatch,
 * InvalidAccessKeyId, RequestTimeTooSkewed, AuthorizationHeaderMalformed.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 *
 * What a signature covers, and so what is checked: method, path, query (a presigned URL's expiry among it),
 * the signed headers (host always), and the payload hash the client declared in x-amz-content-sha256
 * (a hex digest, UNSIGNED-PAYLOAD, or the seed of a STREAMING-… chunked upload; the chunks' own
 * signatures are not checked). A declared hex digest is then held against the body as it streams in
 * (`checkPayloadDigest`): a body that does not match fails its write, which then leaves nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Transform, pipeline } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';
import type { LocalS3Credentials } from '../../src/store/local-credentials.js';
import { Sha256 } from '../sha256.js';
import { S3Error } from './s3rver.js';

/** The parts of an incoming request a signature covers. */
export interface SignedRequest {
  method: string;
  /** As received: path and query, percent-encoded as the client sent them. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** How far a header-signed request's x-amz-date may be from the server's clock, as S3 allows. */
export const MAX_SKEW_MS = 15 * 60_000;
/** The longest a presigned URL may live (SigV4's limit). */
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const PAYLOAD_HASH = /^(UNSIGNED-PAYLOAD|STREAMING-[A-Z0-9-]+|[0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const accessDenied = (message: string, detail?: Record<string, unknown>) => new S3Error('AccessDenied', message, detail);
const malformed = (message: string) => new S3Error('AuthorizationHeaderMalformed', message);
const queryError = (message: string) => new S3Error('AuthorizationQueryParametersError', message);

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function parseAmzDate(value: string | undefined, error: (message: string) => Error): Date {
  const m = AMZ_DATE.exec(value ?? '');
  if (!m) throw error(`X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z', got ${JSON.stringify(value ?? null)}.`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** The query as sent, decoded once, repeated names as arrays (what getCanonicalQuery re-encodes). */
function parseQuery(search: string): QueryParameterBag {
  const query: QueryParameterBag = {};
  for (const pair of search.split('&')) {
    if (!pair) continue;
    const at = pair.indexOf('=');
    const [name, value] = (at === -1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]).map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        throw new S3Error('InvalidArgument', `The query string is not valid percent-encoding: ${JSON.stringify(part)}.`);
      }
    }) as [string, string];
    const seen = query[name];
    query[name] = seen === undefined || seen === null ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
}

const single = (query: QueryParameterBag, name: string): string | undefined => {
  const value = query[name];
  return Array.isArray(value) ? undefined : (value ?? undefined);
};

/** `<key id>/<yyyymmdd>/<region>/s3/aws4_request`, checked against the request's date. */
function parseScope(credential: string, date: Date, error: (message: string) => Error): { accessKeyId: string; region: string } {
  const [accessKeyId, day, region, service, terminator, ...rest] = credential.split('/');
  if (!accessKeyId || !day || !region || service === undefined || terminator !== 'aws4_request' || rest.length > 0) {
    throw error(`The credential ${JSON.stringify(credential)} must be <access key id>/<yyyymmdd>/<region>/s3/aws4_request.`);
  }
  if (service !== 's3') throw error(`The credential is scoped to the service '${service}'; this server is 's3'.`);
  if (day !== date.toISOString().slice(0, 10).replace(/-/g, '')) throw error(`The credential's date ${day} is not the request's date.`);
  return { accessKeyId, region };
}

/**
 * Checks SigV4 signatures against one pair of credentials. `verify` resolves for a request signed with
 * them and throws the S3Error S3 would answer otherwise.
 */
export class SigV4Verifier {
  private readonly signer: SignatureV4;

  constructor(
    private readonly credentials: LocalS3Credentials,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.signer = new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: true });
  }

  async verify(request: SignedRequest): Promise<void> {
    const at = request.url.indexOf('?');
    const path = at === -1 ? request.url : request.url.slice(0, at);
    const query = parseQuery(at === -1 ? '' : request.url.slice(at + 1));
    const authorization = request.headers.authorization;
    const presigned = 'X-Amz-Algorithm' in query || 'X-Amz-Signature' in query;
    if (authorization !== undefined && presigned) {
      throw new S3Error('InvalidArgument', 'Only one auth mechanism allowed: the X-Amz-Algorithm query parameter or the Authorization header.');
    }
    if (authorization !== undefined) return this.verifyHeader(request, path, query, authorization);
    if (presigned) return this.verifyPresigned(request, path, query);
    if ('Signature' in query || 'AWSAccessKeyId' in query) throw accessDenied('Only AWS Signature Version 4 is accepted; this URL is signed with version 2.');
    throw accessDenied('Anonymous access is not allowed: sign requests with the server\'s credentials (AWS Signature Version 4).');
  }

  private checkKeyId(accessKeyId: string): void {
    if (!sameString(accessKeyId, this.credentials.accessKeyId)) {
      throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
    }
  }

  private async verifyHeader(request: SignedRequest, path: string, query: QueryParameterBag, authorization: string): Promise<void> {
    const [algorithm, ...rest] = authorization.trim().split(' ');
    if (algorithm === 'AWS') throw accessDenied('Only AWS Signature Version 4 is accepted; this request is signed with version 2.');
    if (algorithm !== ALGORITHM) throw new S3Error('InvalidArgument', `Unsupported Authorization Type ${JSON.stringify(algorithm)}; expected ${ALGORITHM}.`);
    const fields = new Map(
      rest
        .join('')
        .split(',')
        .map((part) => {
          const eq = part.indexOf('=');
          return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as const;
        }),
    );
    const credential = fields.get('Credential');
    const signedHeaders = fields.get('SignedHeaders');
    const signature = fields.get('Signature');
    if (!credential || !signedHeaders || !signature || fields.size !== 3) {
      throw malformed('The authorization header is malformed; it needs exactly Credential, SignedHeaders and Signature.');
    }
    const amzDate = request.headers['x-amz-date'];
    const date = parseAmzDate(typeof amzDate === 'string' ? amzDate : undefined, malformed);
    const { accessKeyId, region } = parseScope(credential, date, malformed);
    this.checkKeyId(accessKeyId);
    const skew = Math.abs(this.now().getTime() - date.getTime());
    if (skew > MAX_SKEW_MS) {
      throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
        RequestTime: amzDate,
        ServerTime: this.now().toISOString().replace(/\.\d+/, ''),
      });
    }
    const names = signedHeaders.split(';');
    if (!names.includes('host') || !names.includes('x-amz-content-sha256')) {
      throw accessDenied('The signed headers must include host and x-amz-content-sha256.');
    }
    const payloadHash = request.headers['x-amz-content-sha256'];
    if (typeof payloadHash !== 'string' || !PAYLOAD_HASH.test(payloadHash)) {
      throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a sha256 hex digest.');
    }
    const signed = await this.signer.sign(this.toSign(request, path, query, names), {
      signingDate: date,
      signingRegion: region,
      signableHeaders: new Set(names),
    });
    const expected = /Signature=([0-9a-f]+)$/.exec(String(signed.headers.authorization))?.[1] ?? '';
    const expectedHeaders = /SignedHeaders=([^,]+),/.exec(String(signed.headers.authorization))?.[1] ?? '';
    if (!sameString(expectedHeaders, signedHeaders) || !sameString(expected, signature)) throw this.mismatch(accessKeyId);
  }

  private async verifyPresigned(request: SignedRequest, path: string, query: QueryParameterBag): Promise<void> {
    const param = (name: string): string => {
      const value = single(query, name);
      if (!value) throw queryError(`Query-string authentication version 4 requires X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Expires; ${name} is missing.`);
      return value;
    };
    if (param('X-Amz-Algorithm') !== ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${ALGORITHM}".`);
    const credential = param('X-Amz-Credential');
    const signedHeaders = param('X-Amz-SignedHeaders');
    const signature = param('X-Amz-Signature');
    const expiresText = param('X-Amz-Expires');
    const date = parseAmzDate(param('X-Amz-Date'), queryError);
    const { accessKeyId, region } = parseScope(credential, date, queryError);
    this.checkKeyId(accessKeyId);
    const expires = Number(expiresText);
    if (!/^\d+$/.test(expiresText) || expires < 1 || expires > MAX_PRESIGNED_SECONDS) {
      throw queryError(`X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGNED_SECONDS}, got ${JSON.stringify(expiresText)}.`);
    }
    const now = this.now().getTime();
    if (now > date.getTime() + expires * 1000) {
      throw accessDenied('Request has expired', { 'X-Amz-Expires': expiresText, Expires: new Date(date.getTime() + expires * 1000).toISOString().replace(/\.\d+/, ''), ServerTime: new Date(now).toISOString().replace(/\.\d+/, '') });
    }
    if (date.getTime() - now > MAX_SKEW_MS) throw accessDenied('Request is not valid yet: X-Amz-Date is in the future.');
    const names = signedHeaders.split(';');
    if (!names.includes('host')) throw accessDenied('The signed headers must include host.');
    // The auth parameters are what presign() writes back; everything else in the query is signed as sent.
    const rest = Object.fromEntries(Object.entries(query).filter(([name]) => !/^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature)$/.test(name)));
    const toSign = this.toSign(request, path, rest, names);
    // A presigned URL's payload is UNSIGNED-PAYLOAD: set for the signer, neither signed nor moved to the query.
    toSign.headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
    const amzHeaders = names.filter((name) => name.startsWith('x-amz-'));
    const presigned = await this.signer.presign(toSign, {
      signingDate: date,
      signingRegion: region,
      expiresIn: expires,
      signableHeaders: new Set(names),
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      unhoistableHeaders: new Set([...amzHeaders, 'x-amz-content-sha256']),
    });
    const signedQuery = presigned.query ?? {};
    const expected = String(signedQuery['X-Amz-Signature'] ?? '');
    const expectedHeaders = String(signedQuery['X-Amz-SignedHeaders'] ?? '');
    if (!sameString(expectedHeaders, signedHeaders) || !sameString(String(signedQuery['X-Amz-Credential']), credential) || !sameString(expected, signature)) {
      throw this.mismatch(accessKeyId);
    }
  }

  /** The request as the client signed it: only its signed headers (a missing one changes the list, and so fails). */
  private toSign(request: SignedRequest, path: string, query: QueryParameterBag, names: string[]): HttpRequest {
    const headers: Record<string, string> = {};
    for (const name of names) {
      const value = request.headers[name];
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const host = String(request.headers.host ?? '');
    return { method: request.method, protocol: 'http:', hostname: host.replace(/:\d+$/, ''), path, query, headers };
  }

  private mismatch(accessKeyId: string): Error {
    return new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      AWSAccessKeyId: accessKeyId,
    });
  }
}

/** Koa middleware for s3rver: CORS preflights pass (they carry no credentials, and S3 answers them unsigned); every other request must verify. */
export function requireSignature(verifier: SigV4Verifier) {
  return async function requireSignature(ctx: { method: string; originalUrl: string; req: { headers: IncomingHttpHeaders } }, next: () => Promise<unknown>) {
    if (ctx.method !== 'OPTIONS') await verifier.verify({ method: ctx.method, url: ctx.originalUrl, headers: ctx.req.headers });
    return next();
  };
}

/**
 * Koa middleware, after `requireSignature`: a PUT or POST whose x-amz-content-sha256 is a hex digest has its
 * body read through a hash, and the stream fails with S3's XAmzContentSHA256Mismatch (400) at its end when
 * the digest differs. s3rver reads bodies from `ctx.req` (objects, parts, XML), so that is what is replaced;
 * headers are read through `ctx.request`, which keeps the original.
 */
export function checkPayloadDigest() {
  return async function checkPayloadDigest(ctx: { method: string; req: NodeJS.ReadableStream; get(name: string): string }, next: () => Promise<unknown>) {
    const declared = ctx.get('x-amz-content-sha256');
    if ((ctx.method === 'PUT' || ctx.method === 'POST') && /^[0-9a-f]{64}$/.test(declared)) {
      const hash = createHash('sha256');
      const check = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
        flush(callback) {
          const computed = hash.digest('hex');
          if (computed === declared) return callback();
          const error = new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
            ClientComputedContentSHA256: declared,
            S3ComputedContentSHA256: computed,
          });
          callback(Object.assign(error, { status: 400, expose: true }));
        },
      });
      // Errors reach the reader through `check`; the callback only keeps pipeline from throwing them twice.
      ctx.req = pipeline(ctx.req, check, () => undefined);
    }
    return next();
  };
}
