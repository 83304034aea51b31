import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortInUseError } from '../../local/errors.js';
import { startDevStack } from '../../local/dev.js';
import { main } from '../../src/cli/main.js';

/** `npm start` beside something that holds its port: it names the port and the flag, at once, before any model loads. */
describe('the local stack on a taken port', () => {
  let holder: Server;
  let taken: number;
  let data: string;

  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'hs-ports-'));
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    taken = (holder.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => holder.close(resolve));
    rmSync(data, { recursive: true, force: true });
  });

  it.each([
    ['API', { port: 'taken', s3Port: 0 }, 'the API', '--port'],
    ['S3', { port: 0, s3Port: 'taken' }, 'the embedded S3 server', '--s3-port'],
  ] as const)('refuses a taken %s port with PortInUseError naming it and its flag', async (_, ports, what, flag) => {
    const port = ports.port === 'taken' ? taken : 0;
    const s3Port = ports.s3Port === 'taken' ? taken : 0;
    const started = Date.now();

    const error = await startDevStack({ port, s3Port, dataDir: data, home: data, model: 'densenet121', log: () => undefined }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PortInUseError);
    expect(error).toMatchObject({ code: 'PortInUse', cause: { code: 'EADDRINUSE' } });
    expect((error as Error).message).toContain(`port ${taken} on 127.0.0.1 (${what}) is already in use`);
    expect((error as Error).message).toContain(`${flag} <port>`);
    // No model was loaded (there are no weights in this home): the check comes first.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('headstart dev prints one line naming the port and the flag, no stack trace, and exits 1', async () => {
    const err: string[] = [];

    const code = await main(['dev', '--port', String(taken), '--s3-port', '0', '--data', data], { out: () => undefined, err: (line) => err.push(line) });

    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(new RegExp(`^headstart: port ${taken} on 127\\.0\\.0\\.1 \\(the API\\) is already in use.*--port <port>`));
    expect(err.join('\n')).not.toMatch(/\n\s+at /);
  });
});
