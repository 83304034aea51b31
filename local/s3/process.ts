import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { S3EventRecord } from 'aws-lambda';
import { HeadstartError, InvalidArgumentError } from '../../src/errors.js';
import { rememberLocalS3 } from '../../src/store/local-credentials.js';
import type { FromChild, ToChild } from './child.js';
import { checkPort, type LocalS3, type LocalS3Events, type LocalS3Options } from './server.js';
import { logger } from '../../src/logger.js';

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

/** How the parent restarts an S3 server process that died. */
export interface SupervisionOptions {
  /** Restarts in a row that may fail (the process exits before it is ready) before giving up. @default 5 */
  maxRestarts?: number;
  /** Delay before the first restart; doubles after each failed one. @default 250 */
  backoffMs?: number;
  /** A process that stayed up this long counts as healthy: its death starts the backoff afresh. @default 30000 */
  healthyAfterMs?: number;
}

/** What the supervisor reports: a restart (the dev stack reconciles the events the dead process took with it), or giving up. */
export type SupervisorEvents = EventEmitter<{
  exited: [info: { code: number | null; signal: NodeJS.Signals | null }];
  restarted: [info: { attempt: number; downMs: number; pid: number | undefined }];
  failed: [error: S3ProcessFailedError];
}>;

/** A LocalS3 in its own process, restarted when it dies. */
export interface SupervisedLocalS3 extends LocalS3 {
  /** The current process's id (a new one after each restart). */
  readonly pid: number | undefined;
  readonly supervisor: SupervisorEvents;
}

/** The S3 server process died and could not be restarted: the local stack cannot serve anything and should exit. */
export class S3ProcessFailedError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('S3ProcessFailed', message, options);
  }
}

const DEFAULTS = { maxRestarts: 5, backoffMs: 250, healthyAfterMs: 30_000 } as const;

/**
 * The embedded S3 server in a process of its own (what `headstart dev` runs): the same server as
 * `startLocalS3`, but its request handling (signature checks, XML, files) no longer shares the event
 * loop with the API, the event queue and the extract handler. On this 2-core machine that doubles the
 * requests a client gets through (PUT ≈ 140 → 260/s, GET ≈ 300 → 500/s). Events arrive over IPC, in order.
 *
 * Supervised: a process that dies (kill -9, a crash, the OOM killer) is restarted on the same port and data
 * directory with exponential backoff, and `supervisor` emits `restarted`; the events it had not yet sent
 * (an object stored, its event lost with the process) are the listener's to reconcile from the bucket.
 * After `maxRestarts` failed restarts in a row it emits `failed` and stops trying.
 */
export async function startLocalS3Process(options: LocalS3Options = {}, supervision: SupervisionOptions = {}): Promise<SupervisedLocalS3> {
  checkPort(options.port ?? 4569);
  const settings = { ...DEFAULTS, ...supervision };
  const events: LocalS3Events = new EventEmitter();
  const supervisor: SupervisorEvents = new EventEmitter();
  let current = await spawnServer(options, events);
  // A restart must come back where clients (and presigned URLs) already point.
  const port = Number(new URL(current.ready.endpoint).port);
  let closing = false;
  let restart: Promise<void> = Promise.resolve();

  const watch = (server: RunningServer): void => {
    const startedAt = Date.now();
    server.exited.then(({ code, signal }) => {
      if (closing) return;
      supervisor.emit('exited', { code, signal });
      restart = restartAfterExit(Date.now() - startedAt >= settings.healthyAfterMs, { code, signal });
    });
  };

  let failuresInRow = 0;
  async function restartAfterExit(wasHealthy: boolean, exit: { code: number | null; signal: NodeJS.Signals | null }): Promise<void> {
    if (wasHealthy) failuresInRow = 0;
    const downSince = Date.now();
    let lastError: unknown;
    while (!closing && failuresInRow < settings.maxRestarts) {
      const delay = settings.backoffMs * 2 ** failuresInRow;
      failuresInRow++;
      logger.error(
        `local S3: the server process exited unexpectedly (${exit.signal ?? `code ${exit.code}`}); restarting it in ${delay} ms ` +
          `(attempt ${failuresInRow} of ${settings.maxRestarts}). Requests to S3 fail until it is back.`,
      );
      await sleep(delay);
      if (closing) return;
      try {
        current = await spawnServer({ ...options, port }, events);
      } catch (error) {
        lastError = error;
        continue;
      }
      if (closing) {
        await current.close();
        return;
      }
      logger.info(`local S3: the server process is back (pid ${current.child.pid}) after ${Date.now() - downSince} ms; reconciling what it left undone.`);
      watch(current);
      supervisor.emit('restarted', { attempt: failuresInRow, downMs: Date.now() - downSince, pid: current.child.pid });
      return;
    }
    if (closing) return;
    const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
    const error = new S3ProcessFailedError(
      `The embedded S3 server process died and ${settings.maxRestarts} restarts in a row failed${reason}. Nothing can be stored or read; restart headstart dev.`,
      { cause: lastError },
    );
    logger.error(error.message);
    supervisor.emit('failed', error);
  }

  watch(current);
  // This process's clients of the endpoint sign with the child's credentials without being told (a restarted
  // child reads the same installation credentials from the same data directory).
  const forget = rememberLocalS3(current.ready.endpoint, current.ready.credentials);
  return {
    endpoint: current.ready.endpoint,
    bucket: current.ready.bucket,
    credentials: current.ready.credentials,
    credentialsSource: current.ready.credentialsSource,
    get pid() {
      return current.child.pid;
    },
    events,
    supervisor,
    close: async () => {
      closing = true;
      forget();
      await restart;
      await current.close();
    },
  };
}

interface RunningServer {
  child: ChildProcess;
  ready: Extract<FromChild, { type: 'ready' }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  close(): Promise<void>;
}

/** Forks one server process and waits until it listens (or says why it cannot). */
async function spawnServer(options: LocalS3Options, events: LocalS3Events): Promise<RunningServer> {
  const child = fork(RUN_TS, [CHILD], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = await new Promise<FromChild>((resolve) => {
    child.on('message', (message: FromChild) => {
      if (message.type === 'objectCreated') {
        try {
          events.emit('objectCreated', message.record as S3EventRecord);
        } catch (err) {
          logger.error('local S3: an objectCreated listener failed', err as Error);
        }
      } else if (message.type === 'storageFull') events.emit('storageFull', { path: message.path });
      else resolve(message);
    });
    child.once('exit', (code, signal) => resolve({ type: 'failed', message: `the S3 server process exited (${signal ?? `code ${code}`}) before it was ready` }));
    child.send({ type: 'start', options } satisfies ToChild);
  });
  if (ready.type !== 'ready') {
    child.kill();
    const failure = ready as Extract<FromChild, { type: 'failed' }>;
    throw Object.assign(failure.name === 'InvalidArgumentError' ? new InvalidArgumentError(failure.message) : new Error(failure.message), { code: failure.code });
  }
  return {
    child,
    ready,
    exited,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'close' } satisfies ToChild);
      const timer = setTimeout(() => child.kill(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
