import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { createS3Client, isLocalEndpoint } from '../../../src/store/client.js';
import { rememberLocalS3 } from '../../../src/store/local-credentials.js';

const SERVER = { accessKeyId: 'HSLKTESTSERVER000001', secretAccessKey: 'server-secret' };

describe('createS3Client', () => {
  it("configures a local endpoint for s3rver: path style, the server's credentials, checksums only when required", async () => {
    const forget = rememberLocalS3('http://127.0.0.1:4569', SERVER);
    const client = createS3Client({ endpoint: 'http://127.0.0.1:4569' });
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.credentials()).toMatchObject(SERVER);
    forget();
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(await client.config.region()).toBe(process.env.AWS_REGION ?? 'us-east-1');
    client.destroy();
  });

  it('resolves each command kind\'s middleware stack once, local and AWS alike (nothing of ours changes a stack after the first request)', () => {
    for (const options of [{ endpoint: 'http://127.0.0.1:4569' }, { region: 'eu-west-1' }, { endpoint: 'https://s3.eu-west-1.amazonaws.com' }]) {
      const client = createS3Client(options);
      expect(client.config.cacheMiddleware).toBe(true);
      client.destroy();
    }
  });

  it('leaves an AWS client at the SDK defaults', async () => {
    const client = createS3Client({ region: 'eu-west-1' });
    expect(await client.config.region()).toBe('eu-west-1');
    expect(client.config.forcePathStyle).toBeFalsy();
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    client.destroy();
  });

  it('treats a named endpoint as local when told so', async () => {
    const given = { accessKeyId: 'HSLKGIVEN00000000001', secretAccessKey: 'given-secret' };
    const client = createS3Client({ endpoint: 'http://s3rver:4569', local: true, forcePathStyle: false, credentials: given });
    expect(client.config.forcePathStyle).toBe(false);
    expect(await client.config.credentials()).toMatchObject(given);
    client.destroy();
  });

  it('rejects endpoints that are not http(s) URLs, listing the valid protocols', () => {
    expect(() => createS3Client({ endpoint: 'ftp://127.0.0.1:4569' })).toThrow(
      new InvalidArgumentError("S3 endpoint 'ftp://127.0.0.1:4569' has protocol 'ftp:'; expected 'http:' or 'https:'."),
    );
    expect(() => createS3Client({ endpoint: '127.0.0.1:4569' })).toThrow("S3 endpoint '127.0.0.1:4569' is not a URL, e.g. 'http://127.0.0.1:4569'.");
  });
});

describe('isLocalEndpoint', () => {
  it.each([
    ['http://127.0.0.1:4569', true],
    ['http://localhost:4569', true],
    ['http://[::1]:4569', true],
    ['http://minio.localhost', true],
    ['https://s3.eu-west-1.amazonaws.com', false],
    ['http://10.0.0.5:9000', false],
  ])('%s → %s', (endpoint, local) => {
    expect(isLocalEndpoint(endpoint)).toBe(local);
  });
});
