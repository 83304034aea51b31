import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3EventRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { startLocalS3Process } from '../../local/s3/process.js';
import { createS3Client, S3Store } from '../../src/store/index.js';

/**
 * The S3 server process's supervision (issue 15): kill -9 of the child is followed by a restart on the same
 * port and data, or, when restarts keep failing, by `failed` with the reason (headstart dev exits on it).
 */
describe('the supervised S3 server process', () => {
  it('comes back on the same endpoint after kill -9, with every object, and forwards events again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'headstart-s3-supervised-'));
    const s3 = await startLocalS3Process({ port: 0, dataDir: dir, bucket: 'sup' }, { backoffMs: 50 });
    const client = createS3Client({ endpoint: s3.endpoint });
    try {
      const store = new S3Store(client, 'sup');
      await store.put('images/pets/cat/a.png', 'before');
      const firstPid = s3.pid!;
      const restarted = once(s3.supervisor, 'restarted');
      const killedAt = Date.now();
      process.kill(firstPid, 'SIGKILL');
      const [info] = (await restarted) as [{ attempt: number; downMs: number; pid: number }];
      console.log(`S3 process restarted ${Date.now() - killedAt} ms after kill -9 (attempt ${info.attempt}, down ${info.downMs} ms)`);
      expect(info.attempt).toBe(1);
      expect(s3.pid).toBe(info.pid);
      expect(s3.pid).not.toBe(firstPid);
      expect((await store.get('images/pets/cat/a.png')).toString()).toBe('before');
      const records: S3EventRecord[] = [];
      s3.events.on('objectCreated', (r) => records.push(r));
      await store.put('images/pets/cat/b.png', 'after');
      for (let i = 0; i < 100 && records.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(records.map((r) => r.s3.object.key)).toEqual(['images/pets/cat/b.png']);
    } finally {
      client.destroy();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('gives up after the restarts allowed in a row fail, saying why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'headstart-s3-supervised-'));
    const s3 = await startLocalS3Process({ port: 0, dataDir: dir }, { backoffMs: 100, maxRestarts: 2 });
    const port = Number(new URL(s3.endpoint).port);
    const squatter = createServer();
    try {
      const failed = once(s3.supervisor, 'failed');
      const exited = once(s3.supervisor, 'exited');
      process.kill(s3.pid!, 'SIGKILL');
      await exited;
      // Someone takes the port while the server is down: every restart fails with EADDRINUSE.
      await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
      const [error] = (await failed) as [Error & { code: string }];
      expect(error.code).toBe('S3ProcessFailed');
      expect(error.message).toMatch(/^The embedded S3 server process died and 2 restarts in a row failed: .*EADDRINUSE|address already in use/);
      expect(error.message).toContain('restart headstart dev');
    } finally {
      squatter.close();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
