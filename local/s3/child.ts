/**
 * The embedded S3 server's own process (see process.ts): started by `startLocalS3Process`, it runs
 * `startLocalS3` and forwards each object event to its parent over IPC. It exits when told to close or
 * when its parent goes away.
 */
import type { CredentialsSource, LocalS3Credentials } from '../../src/store/local-credentials.js';
import type { LocalS3Options } from './server.js';
import { startLocalS3 } from './server.js';

export type ToChild = { type: 'start'; options: LocalS3Options } | { type: 'close' };
export type FromChild =
  | { type: 'ready'; endpoint: string; bucket: string; credentials: LocalS3Credentials; credentialsSource: CredentialsSource }
  | { type: 'failed'; message: string; code?: string; name?: string }
  | { type: 'objectCreated'; record: unknown }
  | { type: 'storageFull'; path: string };

const send = (message: FromChild) => process.send?.(message);

const failed = (error: unknown): FromChild => {
  const { message, code, name } = error as NodeJS.ErrnoException;
  return { type: 'failed', message, code, name };
};

process.on('disconnect', () => process.exit(0));
// s3rver reports a failed listen (EADDRINUSE) as an error event nobody catches: tell the parent why, then stop.
process.on('uncaughtException', (error) => {
  send(failed(error));
  process.exit(1);
});
process.once('message', async (start: ToChild) => {
  if (start.type !== 'start') return;
  try {
    const s3 = await startLocalS3(start.options);
    s3.events.on('objectCreated', (record) => send({ type: 'objectCreated', record }));
    s3.events.on('storageFull', ({ path }) => send({ type: 'storageFull', path }));
    process.on('message', async (message: ToChild) => {
      if (message.type !== 'close') return;
      await s3.close();
      process.disconnect();
    });
    send({ type: 'ready', endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials, credentialsSource: s3.credentialsSource });
  } catch (error) {
    send(failed(error));
    process.disconnect();
  }
});
