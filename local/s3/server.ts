import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { S3EventRecord } from 'aws-lambda';
import { InvalidArgumentError } from '../../src/errors.js';
import { installationCredentials, rememberLocalS3, type CredentialsSource, type LocalS3Credentials } from '../../src/store/local-credentials.js';
import { checkPayloadDigest, requireSignature, SigV4Verifier } from './auth.js';
import { createSequencer, isObjectCreated, toS3EventRecord } from './event-record.js';
import { installListObjectsFix } from './list-fix.js';
import { refuseUnsafeNames } from './names.js';
import { AWSAccount, S3rver, type S3rverEvent, type S3rverMiddleware } from './s3rver.js';
import { DiskAwareStore } from './disk-full.js';
import { logger } from '../../src/logger.js';

export interface LocalS3Options {
  /** 0 picks a free port (read it back from `endpoint`). @default 4569 */
  port?: number;
  /** @default '127.0.0.1' (plain HTTP: signatures keep strangers out, but nothing is encrypted) */
  host?: string;
  /** Where objects live; kept across restarts. @default './.headstart' */
  dataDir?: string;
  /** Created on start when missing. @default 'headstart' */
  bucket?: string;
  /** Region written into event records. @default 'us-east-1' */
  region?: string;
  /** Silence s3rver's per-request log. @default true */
  silent?: boolean;
  /**
   * The only credentials requests may be signed with. @default HEADSTART_S3_ACCESS_KEY_ID and
   * HEADSTART_S3_SECRET_ACCESS_KEY, else the pair kept in `dataDir` (generated on first start, 0600)
   */
  credentials?: LocalS3Credentials;
}

/** Object events as S3 notifications would carry them (keys URL-encoded, every key: filter downstream). */
export type LocalS3Events = EventEmitter<{ objectCreated: [record: S3EventRecord]; storageFull: [info: { path: string }] }>;

export interface LocalS3 {
  /** e.g. `http://127.0.0.1:4569`, for `createS3Client({ endpoint })`. */
  readonly endpoint: string;
  readonly bucket: string;
  /** What every request must be signed with (SigV4); `createS3Client` for this endpoint in this process finds them itself. */
  readonly credentials: LocalS3Credentials;
  /** Where they came from: the environment, the data directory's file, or generated on this start. */
  readonly credentialsSource: CredentialsSource;
  /** The server's process when it runs in one of its own (startLocalS3Process), e.g. to read its CPU time. */
  readonly pid?: number;
  /** Emits `objectCreated` with one S3EventRecord per stored object, e.g. into a LocalEventQueue. */
  readonly events: LocalS3Events;
  /** Stops the server, dropping open connections; the data stays in `dataDir`. */
  close(): Promise<void>;
}

export function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`port must be an integer from 0 to 65535, got ${port}.`);
  }
}

/**
 * Browsers may PUT to presigned URLs from any origin, as the stack's bucket allows by default
 * (infra/storage.ts, corsOrigins '*'): the console uploads through POST /uploads.
 */
const BUCKET_CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3600</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

/**
 * Starts the embedded S3-compatible server (s3rver) in this process, with the bucket configured, its
 * listing fixed to behave like S3 (list-fix.ts, sorted-store.ts), every request's SigV4 signature checked
 * against the installation's credentials (auth.ts) and keys kept inside their bucket (sorted-store.ts).
 */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const { port = 4569, host = '127.0.0.1', dataDir = './.headstart', bucket = 'headstart' } = options;
  const { region = 'us-east-1', silent = true } = options;
  checkPort(port);
  installListObjectsFix();
  const directory = path.resolve(dataDir);
  await mkdir(directory, { recursive: true });
  const server = new S3rver({ port, address: host, directory, silent, resetOnClose: false, configureBuckets: [{ name: bucket, configs: [BUCKET_CORS] }] });
  // s3rver's own listing skips keys across pages (sorted-store.ts), and answers a full disk as "try again" (disk-full.ts).
  const store = new DiskAwareStore(directory);
  server.store = server.context.store = store;
  const { credentials, source } = options.credentials ? { credentials: options.credentials, source: 'environment' as const } : await installationCredentials(directory);
  // Before the router (the last middleware): nothing is routed, read or written for an unsigned request
  // or for a bucket or key that could name a path outside its folder.
  // s3rver's first middleware is koa-logger: it formats a coloured line for every request (and counts a streamed
  // body through a pass-through) even when the transport it writes to is silent.
  if (silent && (server.middleware[0] as { name?: string }).name === 'logger') server.middleware.shift();
  server.middleware.splice(server.middleware.length - 1, 0, requireSignature(new SigV4Verifier(credentials)) as S3rverMiddleware, checkPayloadDigest() as S3rverMiddleware, refuseUnsafeNames() as S3rverMiddleware);
  // s3rver's own check, which runs after ours, knows only the key ids registered with it.
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const events: LocalS3Events = new EventEmitter();
  store.onFull = (file) => events.emit('storageFull', { path: file });
  const context = { region, nextSequencer: createSequencer() };
  server.on('event', (event: S3rverEvent) => {
    for (const raw of event.Records) {
      if (!isObjectCreated(raw)) continue;
      try {
        events.emit('objectCreated', toS3EventRecord(raw, context));
      } catch (err) {
        // A listener's fault must not turn the client's successful PUT into a 500.
        logger.error('local S3: an objectCreated listener failed', { key: raw.s3.object.key, error: err });
      }
    }
  });
  const address = await server.run();
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const forget = rememberLocalS3(endpoint, credentials);
  return {
    endpoint,
    bucket,
    credentials,
    credentialsSource: source,
    events,
    close: () => {
      forget();
      return closeServer(server);
    },
  };
}

async function closeServer(server: InstanceType<typeof S3rver>): Promise<void> {
  const closed = server.close();
  // SDK clients keep sockets alive; without this, close() waits for their idle timeout.
  server.httpServer?.closeAllConnections();
  await closed;
}
