import { describe, expect, it } from 'vitest';
import { InProcessTrainLauncher, LambdaTrainLauncher, LaunchError, type LambdaSdk } from '../../../functions/api/launchers.js';

/** A stand-in for @aws-sdk/client-lambda: commands keep their input, the client records them. */
function fakeSdk(response: { StatusCode?: number } | Error = { StatusCode: 202 }) {
  const sent: unknown[] = [];
  const configs: unknown[] = [];
  class InvokeCommand {
    constructor(readonly input: unknown) {}
  }
  class LambdaClient {
    constructor(config: Record<string, unknown>) {
      configs.push(config);
    }
    async send(command: unknown) {
      sent.push(command);
      if (response instanceof Error) throw response;
      return response;
    }
  }
  return { sdk: { LambdaClient, InvokeCommand } as unknown as LambdaSdk, sent, configs };
}

describe('LambdaTrainLauncher', () => {
  it('invokes the train function asynchronously with { jobId }', async () => {
    const { sdk, sent, configs } = fakeSdk();
    const launcher = new LambdaTrainLauncher({ functionName: 'headstart-train', loadSdk: async () => sdk });
    await launcher.launch('job-20250101-000000-00000001');
    await launcher.launch('job-20250101-000000-00000002');
    expect(configs).toHaveLength(1); // one client per process
    const inputs = sent.map((c) => (c as { input: { FunctionName: string; InvocationType: string; Payload: Uint8Array } }).input);
    expect(inputs.map((i) => [i.FunctionName, i.InvocationType, JSON.parse(new TextDecoder().decode(i.Payload))])).toEqual([
      ['headstart-train', 'Event', { jobId: 'job-20250101-000000-00000001' }],
      ['headstart-train', 'Event', { jobId: 'job-20250101-000000-00000002' }],
    ]);
  });

  it('fails with LaunchError when the invoke fails or is not accepted', async () => {
    const failing = new LambdaTrainLauncher({ functionName: 'f', loadSdk: async () => fakeSdk(new Error('Rate exceeded')).sdk });
    await expect(failing.launch('j')).rejects.toThrow(new LaunchError("Could not start the train function 'f': Rate exceeded"));
    const refused = new LambdaTrainLauncher({ functionName: 'f', loadSdk: async () => fakeSdk({ StatusCode: 200 }).sdk });
    await expect(refused.launch('j')).rejects.toThrow("The train function 'f' did not accept job j (status 200).");
    const predict = new LambdaTrainLauncher({ functionName: 'p', name: 'the predict function', loadSdk: async () => fakeSdk({ StatusCode: 500 }).sdk });
    await expect(predict.launch('j')).rejects.toThrow("The predict function 'p' did not accept job j (status 500).");
  });

  it('says which package is missing when the SDK cannot be loaded, and tries again next time', async () => {
    let attempts = 0;
    const launcher = new LambdaTrainLauncher({
      functionName: 'f',
      loadSdk: async () => {
        attempts++;
        throw new Error("Cannot find package '@aws-sdk/client-lambda'");
      },
    });
    await expect(launcher.launch('j')).rejects.toMatchObject({
      code: 'LaunchFailed',
      message: "POST /train and POST /predict need @aws-sdk/client-lambda to start the train function, and it could not be loaded: Cannot find package '@aws-sdk/client-lambda'",
    });
    await expect(launcher.launch('j')).rejects.toBeInstanceOf(LaunchError);
    expect(attempts).toBe(2);
  });
});

/** A runner whose jobs finish when the test says so. */
function controllableRunner() {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const signals = new Map<string, AbortSignal>();
  const run = (jobId: string, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      started.push(jobId);
      signals.set(jobId, signal);
      finish.set(jobId, resolve);
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve());
    });
  return { run, started, finish, signals };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('InProcessTrainLauncher', () => {
  it('returns from launch before the job starts, and runs jobs one at a time in order', async () => {
    const runner = controllableRunner();
    const launcher = new InProcessTrainLauncher(runner.run);
    await launcher.launch('a');
    await launcher.launch('b');
    expect(runner.started).toEqual([]);
    await tick();
    expect(runner.started).toEqual(['a']);
    expect([launcher.current, launcher.pending]).toEqual(['a', ['b']]);
    runner.finish.get('a')!();
    await tick();
    await tick();
    expect(runner.started).toEqual(['a', 'b']);
    runner.finish.get('b')!();
    await launcher.idle();
    expect(launcher.current).toBeUndefined();
  });

  it('keeps going after a job crashes, reporting the crash', async () => {
    const crashes: Array<[string, string]> = [];
    const ran: string[] = [];
    const launcher = new InProcessTrainLauncher(
      async (jobId) => {
        ran.push(jobId);
        if (jobId === 'a') throw new Error('boom');
      },
      (jobId, error) => crashes.push([jobId, (error as Error).message]),
    );
    await launcher.launch('a');
    await launcher.launch('b');
    await tick();
    await launcher.idle();
    expect(ran).toEqual(['a', 'b']);
    expect(crashes).toEqual([['a', 'boom']]);
  });

  it('on close, aborts the running job, runs queued ones with an aborted signal, and refuses new ones', async () => {
    const runner = controllableRunner();
    const launcher = new InProcessTrainLauncher(runner.run);
    await launcher.launch('a');
    await launcher.launch('b');
    await tick();
    await launcher.close();
    expect(runner.started).toEqual(['a', 'b']);
    expect(runner.signals.get('a')!.aborted).toBe(true);
    expect(runner.signals.get('b')!.aborted).toBe(true);
    expect((runner.signals.get('a')!.reason as { code: string }).code).toBe('TrainingAborted');
    await expect(launcher.launch('c')).rejects.toThrow('The local trainer is shut down; job c was not started.');
  });
});
