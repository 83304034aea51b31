import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import {
  CREDENTIALS_FILE,
  credentialsFromEnv,
  installationCredentials,
  localCredentials,
  LocalCredentialsMissingError,
  rememberLocalS3,
} from '../../../src/store/local-credentials.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'headstart-creds-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ENV = { HEADSTART_S3_ACCESS_KEY_ID: 'HSLKENV0000000000001', HEADSTART_S3_SECRET_ACCESS_KEY: 'env-secret' };

describe('installationCredentials (the server side)', () => {
  it('generates a random pair once, writes it 0600, and returns the kept pair afterwards', async () => {
    const first = await installationCredentials(dir, {});
    expect(first.source).toBe('generated');
    expect((await stat(path.join(dir, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path.join(dir, CREDENTIALS_FILE), 'utf8'))).toEqual(first.credentials);
    const again = await installationCredentials(dir, {});
    expect(again).toEqual({ credentials: first.credentials, source: 'file' });
    // Another installation gets another pair.
    const other = await mkdtemp(path.join(tmpdir(), 'headstart-creds-'));
    expect((await installationCredentials(other, {})).credentials).not.toEqual(first.credentials);
    await rm(other, { recursive: true, force: true });
  });

  it('agrees on one pair when two servers start on one directory at once', async () => {
    const [a, b] = await Promise.all([installationCredentials(dir, {}), installationCredentials(dir, {})]);
    expect(a.credentials).toEqual(b.credentials);
  });

  it('tightens a kept file others can read to 0600', async () => {
    await installationCredentials(dir, {});
    await chmod(path.join(dir, CREDENTIALS_FILE), 0o644);
    await installationCredentials(dir, {});
    expect((await stat(path.join(dir, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
  });

  it('takes HEADSTART_S3_* over the file, and refuses one without the other', async () => {
    await installationCredentials(dir, {});
    expect(await installationCredentials(dir, ENV)).toEqual({ credentials: { accessKeyId: ENV.HEADSTART_S3_ACCESS_KEY_ID, secretAccessKey: 'env-secret' }, source: 'environment' });
    expect(() => credentialsFromEnv({ HEADSTART_S3_ACCESS_KEY_ID: 'x' })).toThrow(InvalidArgumentError);
    expect(() => credentialsFromEnv({ HEADSTART_S3_ACCESS_KEY_ID: 'x' })).toThrow(/Set both HEADSTART_S3_ACCESS_KEY_ID and HEADSTART_S3_SECRET_ACCESS_KEY/);
  });

  it('names the file and the fix when the kept file is not a pair', async () => {
    await writeFile(path.join(dir, CREDENTIALS_FILE), '{"accessKeyId": 1}');
    await expect(installationCredentials(dir, {})).rejects.toThrow(`${path.join(dir, CREDENTIALS_FILE)} must hold {"accessKeyId": "…", "secretAccessKey": "…"}; delete it`);
  });
});

describe('localCredentials (what a local client signs with)', () => {
  it('prefers a server started in this process on that endpoint, then HEADSTART_S3_*, then $HEADSTART_DATA', async () => {
    const kept = (await installationCredentials(dir, {})).credentials;
    expect(await localCredentials('http://127.0.0.1:4999', { HEADSTART_DATA: dir })).toEqual(kept);
    expect(await localCredentials('http://127.0.0.1:4999', { ...ENV, HEADSTART_DATA: dir })).toMatchObject({ accessKeyId: ENV.HEADSTART_S3_ACCESS_KEY_ID });
    const server = { accessKeyId: 'HSLKINPROCESS0000001', secretAccessKey: 's' };
    const forget = rememberLocalS3('http://127.0.0.1:4999', server);
    expect(await localCredentials('http://127.0.0.1:4999', { ...ENV, HEADSTART_DATA: dir })).toEqual(server);
    expect(await localCredentials('http://127.0.0.1:5000', { HEADSTART_DATA: dir })).toEqual(kept);
    forget();
    expect(await localCredentials('http://127.0.0.1:4999', { HEADSTART_DATA: dir })).toEqual(kept);
  });

  it('says where it looked and what to set when there are none', async () => {
    const attempt = localCredentials('http://127.0.0.1:4999', { HEADSTART_DATA: dir });
    await expect(attempt).rejects.toBeInstanceOf(LocalCredentialsMissingError);
    await expect(localCredentials('http://127.0.0.1:4999', { HEADSTART_DATA: dir })).rejects.toThrow(
      new RegExp(`refuses unsigned requests.*looked in ${path.join(dir, CREDENTIALS_FILE).replace(/[.]/g, '\\.')}.*HEADSTART_S3_ACCESS_KEY_ID and HEADSTART_S3_SECRET_ACCESS_KEY`),
    );
  });
});
