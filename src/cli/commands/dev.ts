import { intOption, parse } from '../args.js';
import { type Command, untilStopped } from '../io.js';

export const devCommand: Command = {
  name: 'dev',
  summary: 'run the whole service on this machine: embedded S3, extraction on upload, training worker, HTTP API (npm start)',
  usage: 'headstart dev [--port 3000] [--host 127.0.0.1] [--s3-port 4569] [--data ./.headstart] [--model <id>] [--backend …] [--engine …]',
  async run(args, io) {
    const { values } = parse(args, {
      port: { type: 'string' },
      host: { type: 'string' },
      's3-port': { type: 'string' },
      data: { type: 'string' },
      model: { type: 'string', short: 'm' },
      backend: { type: 'string' },
      engine: { type: 'string' },
    });
    if (values.backend) process.env.HEADSTART_BACKEND = values.backend;
    if (values.engine) process.env.HEADSTART_ENGINE = values.engine;
    // The extract and train handlers write CloudWatch EMF lines; on a terminal they are only noise.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    // Loaded on demand: the other commands need none of the server code.
    const { startDevStack } = await import('../../../local/dev.js');
    const stack = await startDevStack({
      port: intOption(values.port, 'port', 3000, 0),
      host: values.host,
      s3Port: intOption(values['s3-port'], 's3-port', 4569, 0),
      dataDir: values.data,
      model: values.model,
      log: io.out,
    });
    const failure = await Promise.race([untilStopped(), stack.failed.catch((error: Error) => error)]);
    if (failure) {
      io.err(`headstart dev cannot go on: ${failure.message}`);
      await stack.close().catch(() => undefined);
      return 1;
    }
    io.err('stopping: finishing in-flight work…');
    await stack.close();
    io.err('stopped; data kept in the bucket folder for the next start.');
    return 0;
  },
};
