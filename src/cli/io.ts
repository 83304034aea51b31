import { HeadstartError } from '../errors.js';

/** Where a command writes: injectable so tests capture output without spawning a process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A command line the user got wrong: exit code 2 with the usage. */
export class UsageError extends HeadstartError {
  constructor(message: string) {
    super('Usage', message);
  }
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** Resolves on the first Ctrl-C (SIGINT) or SIGTERM, for a command that serves until it is stopped. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
