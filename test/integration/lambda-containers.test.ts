import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/entries.js';
import { configFromEnv, namespaceFor } from '../../functions/shared/runtime.js';
import { IMAGENET_CLASS_COUNT, imagenetLabel } from '../../src/classify/index.js';
import { decodeSafetensors } from '../../src/features/format/safetensors.js';
import type { FeatureNamespace } from '../../src/features/namespace.js';
import { readJob } from '../../src/jobs/index.js';
import { createPredictJob } from '../../src/jobs/records.js';
import type { PredictJobRecord } from '../../src/jobs/types.js';
import { errorKey, featureKey, linkKey, predictionResultsKey } from '../../src/layout.js';
import { credentialsEnv } from '../../src/store/index.js';
import { sha256Hex } from '../../src/util/hash.js';
import { apiEvent } from '../helpers/events.js';
import { photo } from '../helpers/fixtures.js';
import { invoke, realSynth, removeSandbox, type RunResult, type Synth } from '../helpers/lambda-artifacts.js';
import { buildImage, imageArtifacts, withTaskRootChange, type ImageArtifact, type ImageSandbox } from '../helpers/lambda-containers.js';
import { startTestS3, type TestS3 } from '../helpers/store-s3.js';

/**
 * The container functions of the real `cdk synth` (the extract, classify and predict handlers of the Lambda image), run
 * the way Lambda runs them: the image's task root built as its Dockerfile's stages build it
 * (test/helpers/lambda-containers.ts: the staged context's bundle script, `npm ci --omit=dev` pruned by the
 * context's prune script, the final stage's ENV), alone in an empty folder, read-only, under Node 22 with Node's
 * permission model (native addons and worker threads allowed, writes to /tmp only), the template's environment,
 * real events against the embedded S3 server.
 * The baked weights are RANDOM MobileNetV2 weights: the image's `headstart weights pull` needs the network. They
 * are exported to ONNX by the Dockerfile's own warm commands, so the labels are real ImageNet names, the scores not.
 */
let synth: Synth;
let s3: TestS3;
let image: ImageSandbox;
let ns: FeatureNamespace;
const report: { name: string; artifact: ImageArtifact; unzippedBytes: number; run: RunResult }[] = [];
const EAGLE = 'images/birds/eagle/eagle.jpg';
const NOT_AN_IMAGE = 'images/birds/eagle/notes.jpg';

function artifact(handler: string): ImageArtifact {
  const found = imageArtifacts(synth).find((a) => a.handler === handler);
  if (!found) throw new Error(`no container function with CMD ${handler} in ${synth.dir}`);
  return found;
}

function runOptions() {
  const bucketId = Object.entries(synth.template.Resources).find(([id, r]) => r.Type === 'AWS::S3::Bucket' && id.startsWith('StorageBucket'))![0];
  return { names: { [bucketId]: s3.s3.bucket }, allowNative: true, extraEnv: { HEADSTART_S3_ENDPOINT: s3.s3.endpoint, ...credentialsEnv(s3.s3.credentials) } };
}

async function run(name: string, a: ImageArtifact, events: unknown[], sandbox = image): Promise<RunResult> {
  const result = await invoke(a, sandbox, events, runOptions());
  report.push({ name, artifact: a, unzippedBytes: sandbox.unzippedBytes, run: result });
  return result;
}

const failures = (result: RunResult) => result.invocations.filter((i) => !i.ok).map((i) => `${i.error?.name}: ${i.error?.message}`);

/** An SQS batch of S3 notifications, one message per key (keys URL-encoded as S3 sends them). */
function sqsS3Event(bucket: string, keys: string[]) {
  return {
    Records: keys.map((key, i) => ({
      messageId: `m${i}`,
      receiptHandle: `r${i}`,
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:headstart-extract',
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'AIDAS3', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      body: JSON.stringify({
        Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/') } } }],
      }),
    })),
  };
}

/** POST of a real JPEG as API Gateway passes binary bodies to a proxy integration: base64, isBase64Encoded. */
function dogEvent(path = '/classify', query?: Record<string, string>) {
  const body = readFileSync(photo('dog.jpg')).toString('base64');
  return { ...apiEvent('POST', path, { body, query, headers: { 'Content-Type': 'image/jpeg' } }), isBase64Encoded: true };
}

beforeAll(async () => {
  synth = realSynth();
  s3 = await startTestS3();
  const [first] = imageArtifacts(synth);
  expect(first, 'the synth has a container function').toBeDefined();
  image = await buildImage(first!.image);
  const { depsCached, depsMs, bundleMs, weightsMs } = image.timings;
  console.log(
    `[artifact] image ${first!.image.hash.slice(0, 12)}: deps stage ${depsCached ? 'cached' : 'cold'} ${(depsMs / 1000).toFixed(1)} s, ` +
      `bundle ${(bundleMs / 1000).toFixed(1)} s, random weights + ONNX warm ${(weightsMs / 1000).toFixed(1)} s`,
  );
  ns = await namespaceFor(configFromEnv({ HEADSTART_BUCKET: s3.s3.bucket, HEADSTART_MODEL: image.baseModel, HEADSTART_HOME: image.home }));
  await s3.store.put(EAGLE, readFileSync(photo('eagle.jpg')));
  await s3.store.put(NOT_AN_IMAGE, Buffer.from('this is not a picture\n'));
}, 600_000);

afterAll(async () => {
  if (image) removeSandbox(image);
  await s3?.stop();
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  for (const { name, artifact: a, unzippedBytes, run: r } of report) {
    console.log(
      `[artifact] ${name}: ${mb(unzippedBytes)} MB unpacked (task root + /opt/headstart), import ${r.importMs?.toFixed(0)} ms, ` +
        `cold start ${r.coldStartMs === null ? '(no event)' : `${r.coldStartMs.toFixed(0)} ms`}, peak RSS ${mb(r.maxRssBytes)} MB of ${a.memoryMb} MB`,
    );
  }
});

describe('container artifacts of the real synth, built as their Dockerfile builds them (Node 22, sandboxed)', () => {
  it("has a bundled handler for every container function's CMD, and bakes the finished ONNX exports", () => {
    for (const a of imageArtifacts(synth)) {
      const file = a.handler.slice(0, a.handler.lastIndexOf('.'));
      expect(existsSync(join(image.task, `${file}.mjs`)), `${a.logicalId} CMD ${a.handler}`).toBe(true);
    }
    expect(existsSync(join(image.task, 'onnx-worker.mjs'))).toBe(true);
    expect(image.env).toMatchObject({ NODE_ENV: 'production', HEADSTART_HOME: image.home, HEADSTART_ENGINE: 'onnx' });
  });

  it('extract: an SQS-wrapped S3 event writes the feature file of the uploaded image; a non-image fails alone', async () => {
    const extract = artifact('extract.handler');

    const result = await run('extract', extract, [sqsS3Event(s3.s3.bucket, [EAGLE, NOT_AN_IMAGE])]);

    expect(failures(result), result.output.slice(-3000)).toEqual([]);
    // A bad image is a permanent failure, recorded under errors/, not returned to the queue.
    expect(result.invocations[0].value).toEqual({ batchItemFailures: [] });
    const sha = sha256Hex(readFileSync(photo('eagle.jpg')));
    const tensor = decodeSafetensors(await s3.store.get(featureKey(ns, sha)));
    expect(tensor.tensors.features!.shape).toEqual([1280]);
    expect(tensor.metadata).toMatchObject({ model: 'mobilenet_v2', weights_digest: ns.weightsDigest, layer: 'global_average_pooling2d', source: EAGLE });
    expect(await s3.store.exists(linkKey(ns, EAGLE))).toBe(true);
    expect(JSON.parse((await s3.store.get(errorKey(sha256Hex(Buffer.from('this is not a picture\n'))))).toString())).toMatchObject({ code: 'NotAnImage' });
    expect(result.maxRssBytes).toBeLessThan(extract.memoryMb * 1024 * 1024);
  });

  it('classify: POST /classify of a real JPEG answers ImageNet labels; POST /features and GET /thumbnails answer too', async () => {
    const classify = artifact('classify.handler');
    const events = [dogEvent('/classify', { top: '3' }), dogEvent('/features'), apiEvent('GET', '/thumbnails', { query: { key: EAGLE, size: '64' } })];

    const result = await run('classify', classify, events);

    expect(failures(result), result.output.slice(-3000)).toEqual([]);
    const [classified, features, thumbnail] = result.invocations.map((i) => i.value);
    expect(classified.statusCode, classified.body).toBe(200);
    const body = JSON.parse(classified.body);
    expect(body.model).toBe('mobilenet_v2');
    const labels = new Set(Array.from({ length: IMAGENET_CLASS_COUNT }, (_, i) => imagenetLabel(i)));
    expect(body.predictions).toHaveLength(3);
    for (const p of body.predictions) expect(labels.has(p.label), p.label).toBe(true);
    const scores = body.predictions.map((p: { score: number }) => p.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(features.statusCode, features.body).toBe(200);
    expect(thumbnail.statusCode, thumbnail.body).toBe(200);
    const meta = await sharp(Buffer.from(thumbnail.body, thumbnail.isBase64Encoded ? 'base64' : 'binary')).metadata();
    expect([meta.format, Math.max(meta.width!, meta.height!)]).toEqual(['jpeg', 64]);
    expect(result.maxRssBytes).toBeLessThan(classify.memoryMb * 1024 * 1024);
  });

  it('predict: the asynchronous invoke POST /predict makes runs a model job over the prefix, the non-image failing alone, and announces it on EventBridge', async () => {
    const predict = artifact('predict.handler');
    const job = await createPredictJob(s3.store, { prefix: 'images/birds/', model: image.baseModel, top: 3 });
    const events: { target: string | undefined; body: any }[] = [];
    // A stand-in for EventBridge's PutEvents (JSON protocol), where the function's SDK client is pointed.
    const eventBridge = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        events.push({ target: req.headers['x-amz-target'] as string | undefined, body: JSON.parse(body || 'null') });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }));
      });
    });
    await new Promise<void>((resolve) => eventBridge.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(eventBridge.address() as AddressInfo).port}`;
    let result: RunResult;
    try {
      const options = runOptions();
      result = await invoke(predict, image, [{ jobId: job.jobId }], { ...options, extraEnv: { ...options.extraEnv, AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint } });
      report.push({ name: 'predict', artifact: predict, unzippedBytes: image.unzippedBytes, run: result });
    } finally {
      await new Promise((resolve) => eventBridge.close(resolve));
    }

    expect(failures(result), result.output.slice(-3000)).toEqual([]);
    expect(result.invocations[0].value).toMatchObject({ jobId: job.jobId, status: 'succeeded' });
    const done = (await readJob(s3.store, job.jobId)) as PredictJobRecord;
    expect(done.progress.images).toMatchObject({ total: 2, predicted: 1, failed: 1 });
    const rows = (await s3.store.get(predictionResultsKey(job.jobId, 'jsonl'))).toString().trim().split('\n').map((line) => JSON.parse(line));
    expect(rows.map((row) => row.key)).toEqual([EAGLE, NOT_AN_IMAGE]);
    expect(rows[0]).toMatchObject({ source: 'model', label: rows[0].top[0].label });
    expect(rows[0].top).toHaveLength(3);
    expect(rows[1]).toMatchObject({ key: NOT_AN_IMAGE, error: { code: 'NotAnImage' } });
    expect(events).toHaveLength(1);
    expect(events[0]!.target).toBe('AWSEvents.PutEvents');
    expect(events[0]!.body.Entries[0]).toMatchObject({ Source: 'headstart', DetailType: 'Prediction Job Completed' });
    expect(JSON.parse(events[0]!.body.Entries[0].Detail)).toMatchObject({ jobId: job.jobId, status: 'succeeded' });
    expect(result.maxRssBytes).toBeLessThan(predict.memoryMb * 1024 * 1024);
  });

  it("imports every other container function's handler in the same sandbox", async () => {
    const others = imageArtifacts(synth).filter((a) => !['extract.handler', 'classify.handler', 'predict.handler'].includes(a.handler));

    for (const a of others) {
      const result = await run(`${a.handler.split('.')[0]} (import only)`, a, []);
      expect(result.invocations, `${a.logicalId}: ${result.output.slice(-2000)}`).toEqual([]);
      expect(result.importMs).not.toBeNull();
    }
  });

  it('fails clearly when the image has onnxruntime-node for another platform only (linux/arm64)', async () => {
    const classify = artifact('classify.handler');
    const linux = join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux');
    const change = { remove: [join(linux, 'x64')], add: { [join(linux, 'arm64')]: join(REPO_ROOT, linux, 'arm64') } };

    const result = await withTaskRootChange(image, change, () => invoke(classify, image, [dogEvent()], runOptions()));

    // The warm-up at import logs the failure; the request answers it, naming the binary that is not there.
    expect(result.output).toContain('classify warm-up failed');
    const answer = result.invocations[0].value;
    expect(answer.statusCode).toBeGreaterThanOrEqual(500);
    expect(JSON.parse(answer.body).error).toMatchObject({ code: 'EngineUnavailable', message: expect.stringContaining('linux/x64/onnxruntime_binding.node') });
  });

  it('fails an image whose task root lacks a package the prune took away (sharp)', async () => {
    const extract = artifact('extract.handler');
    const change = { remove: [join('node_modules', 'sharp')] };

    const result = await withTaskRootChange(image, change, () => invoke(extract, image, [sqsS3Event(s3.s3.bucket, [EAGLE])], runOptions()));

    expect(result.importMs).toBeNull();
    expect(result.invocations[0].error).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND', message: expect.stringContaining("Cannot find package 'sharp'") });
  });
});
