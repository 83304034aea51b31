import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, namespaceFor } from '../../functions/shared/runtime.js';
import { REPO_ROOT } from '../../infra/entries.js';
import { readJob } from '../../src/jobs/index.js';
import { listHeads } from '../../src/registry/index.js';
import { credentialsEnv } from '../../src/store/index.js';
import { apiEvent } from '../helpers/events.js';
import { invoke, layOut, realSynth, removeSandbox, zipArtifacts, type RunResult, type Sandbox, type Synth, type ZipArtifact } from '../helpers/lambda-artifacts.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';
import { FAST_HEAD, THREE_CLASSES, writeDataset } from '../unit/jobs/fixtures.js';

/**
 * Every zip function of the real `cdk synth`, run the way Lambda runs it (test/helpers/lambda-artifacts.ts):
 * its cdk.out asset and layers alone in an empty folder, Node 22, the template's environment, Node's permission
 * model keeping it to its task root, /opt and /tmp, real events against the embedded S3 server. The chain is the
 * product's: the API artifact queues a job and invokes the trainer (recorded by a stand-in Lambda endpoint), the
 * train artifact runs that very invocation and publishes a head, the on-failure artifact fails a dead job.
 */
interface Invoked {
  functionName: string;
  invocationType: string | undefined;
  payload: unknown;
}

let synth: Synth;
let s3: TestS3;
let lambdaEndpoint: Server;
const invoked: Invoked[] = [];
const report: { name: string; artifact: ZipArtifact; unzippedBytes: number; run: RunResult }[] = [];
const sandboxes: Sandbox[] = [];

function artifact(description: RegExp): ZipArtifact {
  const found = zipArtifacts(synth).find((a) => description.test(a.description));
  if (!found) throw new Error(`no zip function matching ${description} in ${synth.dir}`);
  return found;
}

async function run(name: string, a: ZipArtifact, events: unknown[]): Promise<RunResult> {
  const sandbox = layOut(a);
  sandboxes.push(sandbox);
  const bucketId = Object.entries(synth.template.Resources).find(([id, r]) => r.Type === 'AWS::S3::Bucket' && id.startsWith('StorageBucket'))![0];
  const result = await invoke(a, sandbox, events, {
    names: { [bucketId]: s3.s3.bucket },
    extraEnv: {
      HEADSTART_S3_ENDPOINT: s3.s3.endpoint,
      ...credentialsEnv(s3.s3.credentials),
      AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(lambdaEndpoint.address() as AddressInfo).port}`,
    },
  });
  report.push({ name, artifact: a, unzippedBytes: sandbox.unzippedBytes, run: result });
  return result;
}

const failures = (result: RunResult) => result.invocations.filter((i) => !i.ok).map((i) => `${i.error?.name}: ${i.error?.message}`);

beforeAll(async () => {
  synth = realSynth();
  s3 = await startTestS3();
  // A stand-in for the Lambda service's Invoke API: records what the API function asks it to run.
  lambdaEndpoint = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const functionName = decodeURIComponent(/\/functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1] ?? '');
      invoked.push({ functionName, invocationType: req.headers['x-amz-invocation-type'] as string | undefined, payload: JSON.parse(body || 'null') });
      res.writeHead(202, { 'content-type': 'application/json' }).end();
    });
  });
  await new Promise<void>((resolve) => lambdaEndpoint.listen(0, '127.0.0.1', resolve));
  // The bucket as the extract function leaves it: its weights index, and cached features for a dataset.
  const config = configFromEnv({ HEADSTART_BUCKET: s3.s3.bucket, HEADSTART_MODEL: 'mobilenet_v2', HEADSTART_HOME: '/nonexistent' });
  await s3.store.put('weights/mobilenet_v2/top/index.json', Buffer.from(JSON.stringify({ digest: '0123456789abcdef', model: 'mobilenet_v2' })));
  const ns = await namespaceFor(config, { store: s3.store });
  await writeDataset(s3.store, 'pets', { ...THREE_CLASSES, ns });
}, 600_000);

afterAll(async () => {
  for (const sandbox of sandboxes) removeSandbox(sandbox);
  await new Promise((resolve) => lambdaEndpoint?.close(resolve));
  await s3?.stop();
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  for (const { name, artifact: a, unzippedBytes, run: r } of report) {
    console.log(
      `[artifact] ${name}: ${mb(unzippedBytes)} MB unzipped (code + layers), import ${r.importMs?.toFixed(0)} ms, ` +
        `cold start ${r.coldStartMs?.toFixed(0)} ms, peak RSS ${mb(r.maxRssBytes)} MB of ${a.memoryMb} MB`,
    );
  }
});

describe('zip artifacts of the real synth, as Lambda runs them (Node 22, sandboxed)', () => {
  it('API: answers GET /datasets/{name} and queues POST /train, invoking the train function asynchronously', async () => {
    const api = artifact(/^headstart: REST API/);
    const events = [
      apiEvent('GET', '/datasets/pets', { resource: '/datasets/{name}' }),
      apiEvent('POST', '/train', { body: { dataset: 'pets', head: FAST_HEAD } }),
    ];

    const result = await run('api', api, events);

    expect(failures(result), result.output.slice(-3000)).toEqual([]);
    const [dataset, train] = result.invocations.map((i) => ({ status: i.value.statusCode, body: JSON.parse(i.value.body) }));
    expect(dataset.status).toBe(200);
    expect(train).toMatchObject({ status: 202, body: { jobId: expect.stringMatching(/^job-/), status: 'queued' } });
    // TRAIN_FUNCTION_NAME is the template's Ref to the train function: the harness names it by its logical id.
    const trainId = artifact(/^headstart: trains a classifier head/).logicalId;
    expect(invoked).toEqual([{ functionName: trainId, invocationType: 'Event', payload: { jobId: train.body.jobId } }]);
    expect(result.maxRssBytes).toBeLessThan(api.memoryMb * 1024 * 1024);
  });

  it('train: runs the invocation the API made and publishes a head', async () => {
    const train = artifact(/^headstart: trains a classifier head/);
    const payload = invoked[0]?.payload as { jobId: string };
    expect(payload?.jobId).toBeDefined();

    const result = await run('train', train, [payload]);

    expect(failures(result), result.output.slice(-3000)).toEqual([]);
    expect(result.invocations[0].value).toMatchObject({ jobId: payload.jobId, status: 'succeeded' });
    const job = await readJob(s3.store, payload.jobId);
    expect(job.status).toBe('succeeded');
    expect((await listHeads(s3.store)).map((h) => h.headId)).toContain((job as { headId: string }).headId);
    expect(result.maxRssBytes).toBeLessThan(train.memoryMb * 1024 * 1024);
  });

  it('train on-failure handler: marks a job whose trainer timed out failed, with the reason', async () => {
    const failed = artifact(/^headstart: marks a training job failed/);
    const api = artifact(/^headstart: REST API/);
    const queued = await run('api (second job)', api, [apiEvent('POST', '/train', { body: { dataset: 'pets', head: FAST_HEAD } })]);
    const jobId = JSON.parse(queued.invocations[0].value.body).jobId as string;
    const record = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:train:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 1 },
      requestPayload: { jobId },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorMessage: '2026-12-01T10:00:00.000Z 5a3c Task timed out after 900.00 seconds' },
    };

    const result = await run('train-failed', failed, [record]);

    expect(failures(result), result.output.slice(-3000)).toEqual([]);
    expect(await readJob(s3.store, jobId)).toMatchObject({ status: 'failed', error: { code: 'TrainerTimedOut' } });
  });

  it('lets a function write /tmp only and read nothing of the repository (a probe handler beside a real artifact)', async () => {
    const failed = artifact(/^headstart: marks a training job failed/);
    const sandbox = layOut(failed);
    sandboxes.push(sandbox);
    // Root ignores file modes: what refuses these is Node's permission model, as Lambda's read-only file system would.
    writeFileSync(
      join(sandbox.task, 'probe.mjs'),
      `import { readFileSync, writeFileSync } from 'node:fs';
      const attempt = (fn) => { try { fn(); return 'ok'; } catch (error) { return error.code ?? error.message; } };
      export const handler = async (event) => ({
        writeTask: attempt(() => writeFileSync(process.env.LAMBDA_TASK_ROOT + '/x', 'x')),
        writeOpt: attempt(() => writeFileSync(event.opt + '/x', 'x')),
        writeRepo: attempt(() => writeFileSync(event.repo + '/x', 'x')),
        writeTmp: attempt(() => writeFileSync('/tmp/headstart-probe-' + process.pid, 'x')),
        readRepo: attempt(() => readFileSync(event.repo + '/package.json')),
      });`,
    );

    const result = await invoke({ ...failed, handler: 'probe.handler' }, sandbox, [{ opt: sandbox.opt, repo: REPO_ROOT }]);

    expect(failures(result), result.output.slice(-2000)).toEqual([]);
    expect(result.invocations[0].value).toEqual({ writeTask: 'ERR_ACCESS_DENIED', writeOpt: 'ERR_ACCESS_DENIED', writeRepo: 'ERR_ACCESS_DENIED', writeTmp: 'ok', readRepo: 'ERR_ACCESS_DENIED' });
  });

  it('fails an artifact that needs something outside itself: the API without its TF.js layer', async () => {
    const api = artifact(/^headstart: REST API/);
    const sandbox = layOut({ ...api, layerZips: [] });
    sandboxes.push(sandbox);

    const result = await invoke(api, sandbox, [apiEvent('GET', '/models')], { names: {}, extraEnv: { HEADSTART_S3_ENDPOINT: s3.s3.endpoint, ...credentialsEnv(s3.s3.credentials) } });

    expect(result.importMs).toBeNull();
    expect(result.invocations[0].error).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND', message: expect.stringContaining("'@tensorflow/tfjs'") });
  });
});
