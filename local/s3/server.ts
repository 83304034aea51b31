import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { S3EventRecord } from 'aws-lambda';
import { InvalidArgumentError } from '../../src/errors.js';
import { createSequencer, isObjectCreated, toS3EventRecord } from './event-record.js';
import { installListObjectsFix } from './list-fix.js';
import { S3rver, type S3rverEvent } from './s3rver.js';
import { SortedFilesystemStore } from './sorted-store.js';
import { logger } from '../../src/logger.js';

export interface LocalS3Options {
  /** 0 picks a free port (read it back from `endpoint`). @default 4569 */
  port?: number;
  /** @default '127.0.0.1' (never the network: the credentials are public) */
  host?: string;
  /** Where objects live; kept across restarts. @default './.headstart' */
  dataDir?: string;
  /** Created on start when missing. @default 'headstart' */
  bucket?: string;
  /** Region written into event records. @default 'us-east-1' */
  region?: string;
  /** Silence s3rver's per-request log. @default true */
  silent?: boolean;
}

/** Object events as S3 notifications would carry them (keys URL-encoded, every key: filter downstream). */
export type LocalS3Events = EventEmitter<{ objectCreated: [record: S3EventRecord] }>;

export interface LocalS3 {
  /** e.g. `http://127.0.0.1:4569`, for `createS3Client({ endpoint })`. */
  readonly endpoint: string;
  readonly bucket: string;
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
 * Starts the embedded S3-compatible server (s3rver) in this process, with the bucket configured and
 * its listing fixed to behave like S3 (list-fix.ts, sorted-store.ts).
 */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const { port = 4569, host = '127.0.0.1', dataDir = './.headstart', bucket = 'headstart' } = options;
  const { region = 'us-east-1', silent = true } = options;
  checkPort(port);
  installListObjectsFix();
  const directory = path.resolve(dataDir);
  await mkdir(directory, { recursive: true });
  const server = new S3rver({ port, address: host, directory, silent, resetOnClose: false, configureBuckets: [{ name: bucket, configs: [BUCKET_CORS] }] });
  // s3rver's own listing skips keys across pages; see sorted-store.ts.
  server.store = server.context.store = new SortedFilesystemStore(directory);
  const events: LocalS3Events = new EventEmitter();
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
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    bucket,
    events,
    close: () => closeServer(server),
  };
}

async function closeServer(server: InstanceType<typeof S3rver>): Promise<void> {
  const closed = server.close();
  // SDK clients keep sockets alive; without this, close() waits for their idle timeout.
  server.httpServer?.closeAllConnections();
  await closed;
}
