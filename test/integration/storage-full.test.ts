import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { errorResult } from '../../functions/api/errors.js';
import { startLocalS3, type LocalS3 } from '../../local/s3/server.js';
import { createS3Client, S3Store, StorageFullError } from '../../src/store/index.js';
import { FileStore } from '../../src/store/file.js';

/**
 * A full disk under the embedded S3 server and the folder store (issue 15): a write answers 507
 * XMinioStorageFull / StorageFullError naming the object, never the 500 "retry" a transient fault gets, the
 * log names the file, and writes work again once space is freed. On a real full disk: a 2 MiB tmpfs when this
 * process may mount one (root, or a user namespace); otherwise every test here says it skipped and why.
 */
const mountPoint = mkdtempSync(join(tmpdir(), 'hs-full-'));
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return true;
  } catch (error) {
    console.log(`storage-full tests skipped: cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]}); run as root to fill a real disk.`);
    return false;
  }
})();

/** Fills the file system with one file, leaving only a few KiB; returns it, to be removed to free the space. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (let size = 0; ; size += chunk.length) {
    try {
      writeFileSync(filler, chunk, { flag: 'a' });
    } catch {
      return filler;
    }
  }
}

describe.skipIf(!mounted)('a full disk (2 MiB tmpfs)', () => {
  let s3: LocalS3;
  let store: S3Store;
  const errors: string[] = [];

  beforeAll(async () => {
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
    s3 = await startLocalS3({ port: 0, dataDir: join(mountPoint, 'data') });
    store = new S3Store(createS3Client({ endpoint: s3.endpoint }), s3.bucket);
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await s3?.close();
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('answers a PUT with StorageFull (HTTP 507), logs the file, and takes writes again once space is freed', async () => {
    await store.put('images/pets/cat/before.png', 'fits');
    const full: string[] = [];
    s3.events.on('storageFull', ({ path }) => full.push(path));
    const filler = fill(mountPoint);
    const failure = await store.put('images/pets/cat/big.png', Buffer.alloc(256 * 1024, 7)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageFullError);
    expect(failure).toMatchObject({ code: 'StorageFull', transient: false, key: 'images/pets/cat/big.png' });
    expect((failure as Error).message).toMatch(/^Storage is full: S3 PutObject on 'images\/pets\/cat\/big.png' in bucket 'headstart' failed: XMinioStorageFull \(HTTP 507\)/);
    // The API answers it as a full disk, not as a retry.
    expect(errorResult(failure, 'r1')).toMatchObject({ statusCode: 507, body: { error: { code: 'StorageFull' } }, headers: {} });
    expect(errors.join('\n')).toMatch(/the disk is full: could not write .*big\.png.* to \/.*images\/pets\/cat\/big\.png/);
    expect(full.length).toBeGreaterThan(0);
    // Nothing half-written is visible, and what was stored before is intact.
    expect(await store.exists('images/pets/cat/big.png')).toBe(false);
    expect((await store.get('images/pets/cat/before.png')).toString()).toBe('fits');
    rmSync(filler);
    await store.put('images/pets/cat/big.png', Buffer.alloc(256 * 1024, 7));
    expect((await store.get('images/pets/cat/big.png')).length).toBe(256 * 1024);
  });

  it('the folder store (headstart extract <dir>) fails with StorageFullError naming the key and file', async () => {
    const files = new FileStore(join(mountPoint, 'folder'));
    await files.put('features/x/a.json', '{}');
    const filler = fill(mountPoint);
    const failure = await files.put('features/x/b.bin', Buffer.alloc(256 * 1024)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageFullError);
    expect((failure as Error).message).toMatch(/^Storage is full: could not write 'features\/x\/b.bin' to \/.*features\/x\/b\.bin \(ENOSPC\)/);
    rmSync(filler);
    await files.put('features/x/b.bin', Buffer.alloc(256 * 1024));
  });
});
