import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventQueue } from '../../local/s3/queue.js';
import { captureLogger } from '../helpers/store-events.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';

const INSTALL_HINT =
  'The AWS CLI (`aws`) is not on PATH. Install it to run this test: `apt-get install -y awscli` ' +
  '(or the AWS CLI v2 installer); it checks the embedded S3 server against a client we did not write.';

/** `aws --version`, read once at collection so the report names the CLI; undefined when absent. */
function cliVersion(): string | undefined {
  const r = spawnSync('aws', ['--version'], { encoding: 'utf8' });
  return r.error ? undefined : `${r.stdout}${r.stderr}`.trim().split(/\s+/)[0];
}

const version = cliVersion();

/** The CLI with the server's credentials, passed as a user would (AWS_* variables), and nothing from the user's own AWS config. */
function runAws(t: TestS3, args: string[], extraEnv: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: t.s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: t.s3.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: path.join(tmpdir(), 'headstart-no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmpdir(), 'headstart-no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...extraEnv,
  };
  // Async on purpose: the server runs in this process, a sync child would block it.
  return promisify(execFile)('aws', [...args, '--endpoint-url', t.s3.endpoint], { env, timeout: 60_000 });
}

describe(`AWS CLI (${version ?? 'not installed'}) against the embedded S3 server`, () => {
  let t: TestS3;
  let dir: string;
  let queue: LocalEventQueue;
  const seen: S3EventRecord[] = [];
  const files: Record<string, Buffer> = {
    'cat one.jpg': randomBytes(2048),
    'sub/deep/ü+x.png': randomBytes(100_000),
    // Above the CLI's 8 MiB multipart threshold: exercises s3rver's multipart upload.
    'big.bin': randomBytes(9 * 1024 * 1024),
  };

  beforeAll(async () => {
    t = await startTestS3();
    queue = new LocalEventQueue({
      store: t.store,
      logger: captureLogger(),
      batchWindowMs: 20,
      handler: async (records) => {
        seen.push(...records);
      },
    });
    t.s3.events.on('objectCreated', (record) => queue.enqueue(record));
    dir = await mkdtemp(path.join(tmpdir(), 'headstart-cli-'));
    for (const [name, body] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), body);
    }
  });

  afterAll(async () => {
    await queue?.close();
    await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uploads a folder with `aws s3 cp --recursive`: byte-exact objects, one event each, pageable listing', async () => {
    if (version === undefined) throw new Error(INSTALL_HINT);

    await runAws(t, ['s3', 'cp', '--recursive', '--only-show-errors', dir, `s3://${t.s3.bucket}/images/cli/`]);
    await queue.idle();

    for (const [name, body] of Object.entries(files)) {
      const stored = await t.store.get(`images/cli/${name}`);
      expect(stored.length, name).toBe(body.length);
      expect(stored.equals(body), name).toBe(true);
    }
    const eventKeys = seen.map((r) => r.s3.object.key).sort();
    expect(eventKeys).toEqual(['images/cli/big.bin', 'images/cli/cat+one.jpg', 'images/cli/sub/deep/%C3%BC%2Bx.png']);

    // One key per page: the CLI follows our continuation tokens (s3rver's own need legacy OpenSSL).
    const { stdout } = await runAws(t, [
      's3api', 'list-objects-v2', '--bucket', t.s3.bucket, '--prefix', 'images/cli/', '--page-size', '1', '--output', 'json',
    ]);
    const listed = (JSON.parse(stdout) as { Contents: { Key: string; Size: number }[] }).Contents;
    expect(listed.map((c) => [c.Key, c.Size])).toEqual([
      ['images/cli/big.bin', files['big.bin']!.length],
      ['images/cli/cat one.jpg', 2048],
      ['images/cli/sub/deep/ü+x.png', 100_000],
    ]);
  });

  it('is refused with a wrong secret; its presigned URL (botocore signs it) works until tampered with', async () => {
    if (version === undefined) throw new Error(INSTALL_HINT);
    await t.store.put('jobs/cli.json', Buffer.from('{"status":"queued"}'));

    const wrong = await runAws(t, ['s3', 'ls', `s3://${t.s3.bucket}/jobs/`], { AWS_SECRET_ACCESS_KEY: 'not-the-secret' }).catch((e: Error & { stderr: string }) => e);
    expect((wrong as { stderr: string }).stderr).toContain('SignatureDoesNotMatch');

    // AWS CLI v1 presigns with signature version 2 unless told; the server takes version 4 only.
    const config = path.join(dir, 'aws-config');
    await writeFile(config, '[default]\ns3 =\n  signature_version = s3v4\n');
    const { stdout } = await runAws(t, ['s3', 'presign', `s3://${t.s3.bucket}/jobs/cli.json`, '--expires-in', '300'], { AWS_CONFIG_FILE: config });
    const url = stdout.trim();
    expect(await (await fetch(url)).text()).toBe('{"status":"queued"}');
    const tampered = [url.replace('jobs/cli.json', 'jobs/other.json'), url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800'), url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`)];
    for (const bad of tampered) expect((await fetch(bad)).status, bad).toBe(403);
  });
});
