import { createServer } from 'node:net';
import { PortInUseError } from './errors.js';

/** One port of the local stack: what listens on it and the `headstart dev` flag that moves it. */
export interface StackPort {
  port: number;
  host: string;
  /** 'the API', 'the embedded S3 server' */
  what: string;
  /** '--port', '--s3-port' */
  flag: string;
}

/** The error for a taken port: which one, and how to pick another. */
export function portInUse({ port, host, what, flag }: StackPort, cause?: unknown): PortInUseError {
  return new PortInUseError(
    `port ${port} on ${host} (${what}) is already in use, perhaps by another 'npm start'. ` +
      `Stop that, or pick another port with ${flag} <port> (npm start -- ${flag} ${port + 1}; ${flag} 0 takes any free one).`,
    { cause },
  );
}

const inUse = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';

/**
 * Fails fast with PortInUseError when the port is taken, before a model loads for seconds only to find
 * it out at listen time. Port 0 (any free one) is always available.
 */
export async function assertPortFree(spec: StackPort): Promise<void> {
  if (spec.port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(inUse(error) ? portInUse(spec, error) : error));
    server.listen(spec.port, spec.host, () => server.close(() => resolve()));
  });
}

/** Runs `listen`, turning its EADDRINUSE (the port taken since the check) into PortInUseError. */
export async function listenOn<T>(spec: StackPort, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    throw inUse(error) ? portInUse(spec, error) : error;
  }
}
