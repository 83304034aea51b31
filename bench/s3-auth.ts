/**
 * What the S3 port's signature check costs (issue 15): SigV4Verifier.verify per header-signed and per
 * presigned request, beside a whole sequential 2 KB PUT and GET through the embedded server in this process.
 * `node bin/run-ts.js bench/s3-auth.ts`
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { SigV4Verifier } from '../local/s3/auth.js';
import { startLocalS3 } from '../local/s3/server.js';
import { Sha256 } from '../local/sha256.js';
import { createS3Client, S3Store } from '../src/store/index.js';

const credentials = { accessKeyId: 'HSLKBENCH00000000001', secretAccessKey: 'bench-secret' };
const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
const verifier = new SigV4Verifier(credentials);
const request = { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/headstart/images/a/b.png', query: {}, headers: { host: '127.0.0.1:4569' } };

async function perCall(what: string, call: () => Promise<void>, n = 5000): Promise<void> {
  for (let i = 0; i < n / 10; i++) await call();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call();
  console.log(`${what.padEnd(34)} ${(((performance.now() - t0) * 1000) / n).toFixed(0)} µs/request`);
}

const signed = await signer.sign({ ...request, headers: { ...request.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
await perCall('verify, header-signed', () => verifier.verify({ method: 'GET', url: request.path, headers: signed.headers as Record<string, string> }));
// As the SDK's presigner (and botocore) sign S3 URLs: payload UNSIGNED-PAYLOAD.
const presignClient = createS3Client({ endpoint: 'http://127.0.0.1:4569', credentials });
const presigned = new URL(await getSignedUrl(presignClient, new GetObjectCommand({ Bucket: 'headstart', Key: 'images/a/b.png' }), { expiresIn: 300 }));
const url = presigned.pathname + presigned.search;
await perCall('verify, presigned', () => verifier.verify({ method: 'GET', url, headers: { host: '127.0.0.1:4569' } }));

const dir = await mkdtemp(path.join(tmpdir(), 'headstart-bench-auth-'));
const s3 = await startLocalS3({ port: 0, dataDir: dir, credentials });
const client = createS3Client({ endpoint: s3.endpoint });
const store = new S3Store(client, s3.bucket);
const body = Buffer.alloc(2048, 1);
let i = 0;
await perCall('PUT 2 KB through the server', () => store.put(`images/bench/${i++}.bin`, body), 400);
i = 0;
await perCall('GET 2 KB through the server', async () => void (await store.get(`images/bench/${i++ % 400}.bin`)), 400);
client.destroy();
await s3.close();
await rm(dir, { recursive: true, force: true });
