import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { startLocalS3, type LocalS3 } from '../../local/s3/server.js';
import { createS3Client } from '../../src/store/client.js';
import { S3Store } from '../../src/store/s3.js';

export interface TestS3 {
  s3: LocalS3;
  client: S3Client;
  store: S3Store;
  dataDir: string;
  /** Closes the server and the client; removes the data directory unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** The embedded server on a free port with a fresh temp data directory, and an S3Store on it. */
export async function startTestS3(dataDir?: string): Promise<TestS3> {
  const dir = dataDir ?? (await mkdtemp(path.join(tmpdir(), 'headstart-s3-')));
  const s3 = await startLocalS3({ port: 0, dataDir: dir, silent: true });
  const client = createS3Client({ endpoint: s3.endpoint });
  return {
    s3,
    client,
    store: new S3Store(client, s3.bucket),
    dataDir: dir,
    async stop({ keepData = false } = {}) {
      client.destroy();
      await s3.close();
      if (!keepData) await rm(dir, { recursive: true, force: true });
    },
  };
}
