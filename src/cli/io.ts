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
