import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client, isLocalEndpoint } from '../../src/store/index.js';

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
