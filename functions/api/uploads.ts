import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client, isLocalEndpoint, type ObjectStore } from '../../src/store/index.js';
import type { ApiRequest, ApiResponse } from './http.js';

/** Hands out URLs a client can PUT one object to without credentials. */
export interface UploadSigner {
  /** A presigned PUT URL for `key`; when `contentType` is given the upload must send that Content-Type. */
  presignPut(key: string, options: { contentType?: string; expiresIn: number }): Promise<string>;
}

/** Hands out URLs a client can GET one object from without credentials (GET /models/{id}/export). */
export interface DownloadSigner {
  /** A presigned GET URL for `key`; with `fileName`, S3 answers it as an attachment of that name. */
  presignGet(key: string, options: { fileName?: string; expiresIn: number }): Promise<string>;
}

/** One stored file a route answers for download (an export bundle, a prediction job's results). */
export interface Download {
  key: string;
  fileName: string;
  contentType: string;
  /** Its size, when the route knows it; else read with a HEAD. */
  bytes?: number;
  /** Lifetime of the presigned URL. */
  ttlSeconds: number;
  /** Fields added to the JSON answer, headers to every answer. */
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * The answer for a download: with a signer, `303 See Other` with `Location:` a presigned GET of the file, or, for
 * `Accept: application/json`, `200 { url, expiresAt, bytes, fileName, ...body }`; without one (a store no client
 * can reach, as in tests), the file itself as the body.
 */
export async function downloadAnswer(request: ApiRequest, store: ObjectStore, signer: DownloadSigner | undefined, file: Download): Promise<ApiResponse> {
  const headers = file.headers ?? {};
  if (!signer) {
    return {
      statusCode: 200,
      body: await store.get(file.key),
      headers: { 'content-type': file.contentType, 'content-disposition': `attachment; filename="${file.fileName}"`, ...headers },
    };
  }
  const expiresAt = new Date(Date.now() + file.ttlSeconds * 1000).toISOString();
  const url = await signer.presignGet(file.key, { fileName: file.fileName, expiresIn: file.ttlSeconds });
  const bytes = file.bytes ?? (await store.head(file.key))?.size ?? null;
  const body = { url, expiresAt, bytes, fileName: file.fileName, ...file.body };
  if ((request.headers.accept ?? '').toLowerCase().includes('application/json')) return { statusCode: 200, body, headers: { ...headers, vary: 'Accept' } };
  return { statusCode: 303, body, headers: { location: url, ...headers, vary: 'Accept' } };
}

/**
 * The S3 client to presign with. Checksums only when required: with the SDK's default (since 3.729) a
 * presigned PutObject carries the CRC32 of an empty body, and S3 rejects every real upload to that URL
 * (aws/aws-sdk-js-v3#6994). The local client already works that way.
 */
export function presignClient(options: { endpoint?: string; region?: string } = {}): S3Client {
  if (options.endpoint !== undefined && isLocalEndpoint(options.endpoint)) return createS3Client(options);
  return new S3Client({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    endpoint: options.endpoint,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Presigns with @aws-sdk/s3-request-presigner: works against AWS and the embedded local server. */
export class S3UploadSigner implements UploadSigner, DownloadSigner {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  presignPut(key: string, options: { contentType?: string; expiresIn: number }): Promise<string> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: options.contentType });
    // The presigner signs only host unless told: content-type signed makes the bucket hold the upload to it.
    const signableHeaders = options.contentType === undefined ? undefined : new Set(['content-type']);
    return getSignedUrl(this.client, command, { expiresIn: options.expiresIn, signableHeaders });
  }

  presignGet(key: string, options: { fileName?: string; expiresIn: number }): Promise<string> {
    const disposition = options.fileName === undefined ? undefined : `attachment; filename="${options.fileName.replace(/["\\]/g, '_')}"`;
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: disposition });
    return getSignedUrl(this.client, command, { expiresIn: options.expiresIn });
  }
}
