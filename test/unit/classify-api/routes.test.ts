import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifyRoutes, type ClassifyRoutes } from '../../../functions/classify/routes.js';
import { IMAGENET_CLASS_COUNT, imagenetLabel } from '../../../src/classify/decode.js';
import { initBackend } from '../../../src/engine/backend.js';
import { decodeSafetensors } from '../../../src/features/format/safetensors.js';
import { FeaturePipeline } from '../../../src/features/pipeline.js';
import { predictHead } from '../../../src/heads/predict.js';
import { HeadCache } from '../../../src/registry/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { pngHeaderOnly } from '../image/fixtures.js';
import { imageEvent, jsonEvent, multipartEvent, noisyJpeg, parseAnswer, serve, solidJpeg, type JsonAnswer } from './events.js';
import { MOBILENET_RANDOM, publishTestHead } from './heads.js';

/**
 * The routes end to end on random-weights MobileNetV2 pipelines (ONNX Runtime where it loads, as in the
 * functions): every input form, every error path, heads through the real registry, /features in both formats.
 */
const IMAGENET_LABELS = new Set(Array.from({ length: IMAGENET_CLASS_COUNT }, (_, i) => imagenetLabel(i)));
const HEAD_LABELS = ['bird', 'cat', 'dog'];

let store: MemoryStore;
let heads: HeadCache;
let routes: ClassifyRoutes;
let answer: ReturnType<typeof serve>;
let built: string[];
let photo: Buffer;
let other: Buffer;
let truncated: Buffer;

beforeAll(async () => {
  await initBackend();
  store = new MemoryStore('classify-test');
  heads = new HeadCache(store, { maxSize: 2 });
  built = [];
  routes = createClassifyRoutes({
    store,
    defaultModel: 'mobilenet_v2',
    createPipeline: (model, cut) => {
      built.push(`${model} ${JSON.stringify(cut)}`);
      return FeaturePipeline.create({ model, cut, weights: null });
    },
    heads,
  });
  answer = serve(routes.routes);
  photo = await solidJpeg([200, 60, 30]);
  other = await solidJpeg([20, 90, 220]);
  const noisy = await noisyJpeg(96);
  truncated = noisy.subarray(0, Math.floor(noisy.length / 2));
  await store.put('images/uploads/photo.jpg', photo);
  await publishTestHead(store, 'pets-1', HEAD_LABELS);
  await routes.warmUp();
});

afterAll(() => routes?.dispose());

async function classify(event: APIGatewayProxyEvent): Promise<JsonAnswer> {
  return parseAnswer(await answer(event));
}

function expectError(answer: JsonAnswer, status: number, code: string): string {
  expect(answer.status).toBe(status);
  expect(answer.body.error.code).toBe(code);
  expect(Object.keys(answer.body)).toEqual(['error']);
  return answer.body.error.message as string;
}

describe('warm-up', () => {
  it('loads the default classifier before the first request', () => {
    expect(built[0]).toBe('mobilenet_v2 "classifier"');
    expect(routes.service.loadedPipelines()).toContain('mobilenet_v2|classifier');
  });
});

describe('POST /classify with the ImageNet classifier', () => {
  it('a raw JPEG body: top-5 ImageNet labels, the model and timings', async () => {
    const { status, body } = await classify(imageEvent(photo));

    expect(status).toBe(200);
    expect(body.model).toBe('mobilenet_v2');
    expect(body.head).toBeUndefined();
    expect(body.predictions).toHaveLength(5);
    expect(body.results).toEqual([{ image: 0, predictions: body.predictions }]);
    const scores = (body.predictions as Array<{ label: string; score: number }>).map((p) => p.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    for (const p of body.predictions) {
      expect(Object.keys(p)).toEqual(['label', 'score']);
      expect(IMAGENET_LABELS.has(p.label)).toBe(true);
    }
    expect(body.timings.decodeMs).toBeGreaterThanOrEqual(0);
    expect(body.timings.inferMs).toBeGreaterThan(0);
    expect(body.timings.totalMs).toBeGreaterThanOrEqual(body.timings.inferMs);
  });

  it('the same picture as JSON base64, as a bucket key and as a multipart file gives the same answer', async () => {
    const raw = await classify(imageEvent(photo, 'image/jpeg', { top: '3' }));
    const json = await classify(jsonEvent({ image: photo.toString('base64') }, { top: '3' }));
    const key = await classify(jsonEvent({ key: 'images/uploads/photo.jpg' }, { top: '3' }));
    const form = await classify(multipartEvent([{ filename: 'photo.jpg', bytes: photo }], { top: '3' }));

    expect(raw.body.predictions).toHaveLength(3);
    for (const answer of [json, key, form]) {
      expect(answer.status).toBe(200);
      expect(answer.body.predictions).toEqual(raw.body.predictions);
    }
    expect(key.body.results[0].image).toBe('images/uploads/photo.jpg');
    expect(form.body.results[0].image).toBe('photo.jpg');
  });

  it('top=1000 returns every class, the scores of a softmax', async () => {
    const { body } = await classify(imageEvent(photo, 'image/jpeg', { top: '1000' }));

    const total = (body.predictions as Array<{ score: number }>).reduce((sum, p) => sum + p.score, 0);
    expect(body.predictions).toHaveLength(1000);
    expect(total).toBeCloseTo(1, 4);
  });

  it('a multipart batch: one truncated JPEG fails alone, the others are classified', async () => {
    const { status, body } = await classify(
      multipartEvent([
        { filename: 'a.jpg', bytes: photo },
        { filename: 'broken.jpg', bytes: truncated },
        { filename: 'b.jpg', bytes: other },
      ]),
    );

    expect(status).toBe(200);
    expect(body.predictions).toBeUndefined();
    expect(body.results.map((r: { image: string }) => r.image)).toEqual(['a.jpg', 'broken.jpg', 'b.jpg']);
    expect(body.results[0].predictions).toHaveLength(5);
    expect(body.results[2].predictions).toHaveLength(5);
    // Only the code: decoded next to other images, libvips' shared error buffer sometimes loses the 'truncated' detail.
    expect(body.results[1].error.code).toBe('CorruptImage');
  });

  it('a JSON batch: a missing key, bad base64 and an empty image fail alone', async () => {
    const { status, body } = await classify(
      jsonEvent({ images: [{ key: 'images/uploads/missing.jpg' }, 'not base64!', '', { image: other.toString('base64'), name: 'other' }] }),
    );

    expect(status).toBe(200);
    expect(body.results.map((r: { error?: { code: string } }) => r.error?.code ?? 'ok')).toEqual(['NoSuchKey', 'InvalidBase64', 'EmptyImage', 'ok']);
    expect(body.results[0].error.message).toBe("Object 'images/uploads/missing.jpg' does not exist in bucket 'classify-test'.");
    expect(body.results[3].image).toBe('other');
  });
});

describe('POST /classify: every bad input is a 4xx JSON error, and the service carries on', () => {
  it('empty body → 400 EmptyBody', async () => {
    expectError(await classify(imageEvent(Buffer.alloc(0))), 400, 'EmptyBody');
  });

  it('text sent as image/jpeg → 400 NotAnImage, naming the formats', async () => {
    const message = expectError(await classify(imageEvent(Buffer.from('hello, not a picture'))), 400, 'NotAnImage');
    expect(message).toContain("expected a 'jpeg', 'png', 'webp', 'gif', 'tiff' or 'avif' file");
  });

  it('an SVG → 415 UnsupportedFormat', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>');
    expectError(await classify(imageEvent(svg, 'image/svg+xml')), 415, 'UnsupportedFormat');
  });

  it('a truncated JPEG → 400 CorruptImage', async () => {
    const message = expectError(await classify(imageEvent(truncated)), 400, 'CorruptImage');
    expect(message).toContain('truncated');
  });

  it('a pixel bomb (a 60,000 × 60,000 PNG header) → 413 ImageTooLarge, refused from its header', async () => {
    const message = expectError(await classify(imageEvent(pngHeaderOnly(60_000, 60_000), 'image/png')), 413, 'ImageTooLarge');
    expect(message).toContain('60000×60000');
  });

  it('a body over 10 MB → 413 PayloadTooLarge, pointing to presigned uploads', async () => {
    const message = expectError(await classify(imageEvent(Buffer.alloc(10 * 1024 * 1024 + 10))), 413, 'PayloadTooLarge');
    expect(message).toContain('POST /uploads');
  });

  it('malformed JSON → 400 MalformedJson; a wrong Content-Type → 415 listing the accepted ones', async () => {
    expectError(await classify(jsonEvent('{"image":')), 400, 'MalformedJson');
    const message = expectError(await classify(imageEvent(photo, 'text/plain')), 415, 'UnsupportedMediaType');
    expect(message).toContain("'image/*', 'application/octet-stream', 'application/json' or 'multipart/form-data'");
  });

  it('an unknown model → 404 listing the valid ids (it is no zoo model and no published fine-tuned model); a bad top → 400', async () => {
    const message = expectError(await classify(imageEvent(photo, 'image/jpeg', { model: 'alexnet' })), 404, 'ModelNotFound');
    expect(message).toBe(
      "Unknown model 'alexnet': expected 'vgg16', 'vgg19', 'resnet50', 'inception_v3', 'mobilenet_v2' or 'densenet121', or the id of a published fine-tuned model (GET /models lists them).",
    );
    expectError(await classify(imageEvent(photo, 'image/jpeg', { top: '0' })), 400, 'InvalidArgument');
  });

  it('a key that does not exist → 404 NoSuchKey; a key outside images/ → 400', async () => {
    expectError(await classify(jsonEvent({ key: 'images/nope.jpg' })), 404, 'NoSuchKey');
    expectError(await classify(jsonEvent({ key: 'jobs/123.json' })), 400, 'InvalidArgument');
  });

  it('an unknown head → 404 HeadNotFound', async () => {
    const message = expectError(await classify(imageEvent(photo, 'image/jpeg', { head: 'no-such-head' })), 404, 'HeadNotFound');
    expect(message).toBe("No published head 'no-such-head': GET /models lists the heads there are.");
  });

  it('after all of that the same process still classifies', async () => {
    const { status, body } = await classify(imageEvent(photo));
    expect(status).toBe(200);
    expect(body.predictions).toHaveLength(5);
  });
});

describe('POST /classify?head=', () => {
  it('classifies with the head’s labels on the features of its base, as predictHead does', async () => {
    const { status, body } = await classify(imageEvent(photo, 'image/jpeg', { head: 'pets-1', top: '10' }));
    const features = parseAnswer(await answer(imageEvent(photo, 'image/jpeg', undefined, '/features'))).body.features as number[];
    const { model } = await heads.get('pets-1');
    const expected = predictHead(model, Float32Array.from(features), features.length);

    expect(status).toBe(200);
    expect(body.head).toBe('pets-1');
    expect(body.model).toBe('mobilenet_v2');
    expect(body.predictions).toHaveLength(3); // top is capped at the head's label count
    expect(body.predictions.map((p: { label: string }) => p.label).sort()).toEqual(HEAD_LABELS);
    for (const p of body.predictions) expect(p.score).toBeCloseTo(expected[HEAD_LABELS.indexOf(p.label)]!, 5);
  });

  it('a head of another base (other weights) → 409 HeadBaseMismatch naming both namespaces', async () => {
    await publishTestHead(store, 'pets-other-weights', HEAD_LABELS, { ...MOBILENET_RANDOM, weightsDigest: '0123456789abcdef' });

    const message = expectError(await classify(imageEvent(photo, 'image/jpeg', { head: 'pets-other-weights' })), 409, 'HeadBaseMismatch');

    expect(message).toBe(
      "Head 'pets-other-weights' was trained on features from mobilenet_v2@0123456789abcdef/global_average_pooling2d, " +
        'but this service extracts mobilenet_v2@random/global_average_pooling2d. Retrain the head on this service, or deploy the weights it was trained with.',
    );
  });

  it('a head with a model= of another base → 400', async () => {
    const message = expectError(await classify(imageEvent(photo, 'image/jpeg', { head: 'pets-1', model: 'densenet121' })), 400, 'InvalidArgument');
    expect(message).toBe("Head 'pets-1' classifies mobilenet_v2 features, not densenet121: leave out 'model' or set model=mobilenet_v2.");
  });

  it('heads stay in a bounded LRU: the least recently used one is dropped', async () => {
    await publishTestHead(store, 'pets-2', HEAD_LABELS, MOBILENET_RANDOM, 8);
    await publishTestHead(store, 'pets-3', HEAD_LABELS, MOBILENET_RANDOM, 9);

    for (const head of ['pets-1', 'pets-2', 'pets-3']) {
      expect((await classify(imageEvent(photo, 'image/jpeg', { head }))).status).toBe(200);
    }

    expect(heads.size).toBe(2);
    expect(heads.has('pets-1')).toBe(false);
    expect(heads.has('pets-3')).toBe(true);
  });

  it('a batch with a head: the bad image fails alone', async () => {
    const { status, body } = await classify(multipartEvent([{ bytes: photo }, { bytes: Buffer.from('nope') }], { head: 'pets-3', top: '1' }));

    expect(status).toBe(200);
    expect(body.results[0].predictions).toHaveLength(1);
    expect(HEAD_LABELS).toContain(body.results[0].predictions[0].label);
    expect(body.results[1].error.code).toBe('NotAnImage');
  });
});

describe('POST /features', () => {
  it('JSON: the vector of the service’s feature cut, its shape and namespace', async () => {
    const { status, body } = await answer(jsonEvent({ key: 'images/uploads/photo.jpg' }, undefined, '/features')).then(parseAnswer);

    expect(status).toBe(200);
    expect(body.shape).toEqual([1280]);
    expect(body.features).toHaveLength(1280);
    expect(body.features.every((v: number) => Number.isFinite(v))).toBe(true);
    expect(body.namespace).toBe('mobilenet_v2@random/global_average_pooling2d');
    expect(body.metadata).toMatchObject({ model: 'mobilenet_v2', layer: 'global_average_pooling2d', source: 'images/uploads/photo.jpg', dtype: 'float32' });
    expect(body.timings.inferMs).toBeGreaterThan(0);
  });

  it('Accept: application/octet-stream: a safetensors file with the same values and metadata', async () => {
    const json = parseAnswer(await answer(imageEvent(photo, 'image/jpeg', undefined, '/features'))).body;
    const event = imageEvent(photo, 'image/jpeg', undefined, '/features');
    event.headers.Accept = 'application/octet-stream';

    const result = await answer(event);
    const file = decodeSafetensors(Buffer.from(result.body, 'base64'));

    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    expect(result.headers?.['content-type']).toBe('application/octet-stream');
    expect(file.tensors.features!.shape).toEqual([1280]);
    expect(Array.from(file.tensors.features!.data)).toEqual(json.features);
    expect(file.metadata).toMatchObject({ model: 'mobilenet_v2', weights_digest: 'random', source: 'request' });
  });

  it('one image per request; a bad image → its 4xx', async () => {
    const two = parseAnswer(await answer(multipartEvent([{ bytes: photo }, { bytes: photo }], undefined, '/features')));
    const bad = parseAnswer(await answer(imageEvent(truncated, 'image/jpeg', undefined, '/features')));

    expect(expectError(two, 400, 'InvalidArgument')).toBe('POST /features takes one image, got 2: send them one per request.');
    expectError(bad, 400, 'CorruptImage');
  });

  it('an unknown layer lists the model’s feature layers', async () => {
    const unknown = parseAnswer(await answer(imageEvent(photo, 'image/jpeg', { layer: 'fc2' }, '/features')));

    expect(expectError(unknown, 400, 'InvalidArgument')).toMatch(/^Unknown feature layer 'fc2' for mobilenet_v2: expected 'global_average_pooling2d'/);
  });
});
