import { HeadstartError, InvalidArgumentError } from '../errors.js';
import { LIBRARY_VERSION } from '../version.js';
import { commands } from './commands/index.js';
import { type CliIo, processIo, UsageError } from './io.js';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `headstart ${LIBRARY_VERSION} — transfer learning for images: pretrained CNNs, cached features, trained heads`,
    '',
    'Usage: headstart <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'headstart <command> --help' for a command's options.",
  ].join('\n');
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failed, 2 bad usage). */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(LIBRARY_VERSION);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`headstart: unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(', ')}.`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return report(error, command.usage, io);
  }
}

function report(error: unknown, usage: string, io: CliIo): number {
  if (error instanceof UsageError || error instanceof InvalidArgumentError) {
    io.err(`headstart: ${error.message}\nUsage: ${usage}`);
    return 2;
  }
  if (error instanceof HeadstartError) {
    io.err(`headstart: ${error.message}`);
    return 1;
  }
  // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed options.
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    io.err(`headstart: ${(error as Error).message}\nUsage: ${usage}`);
    return 2;
  }
  io.err(`headstart: unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  return 1;
}
