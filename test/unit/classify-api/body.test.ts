import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, readRequestImages, type RequestLimits } from '../../../functions/classify/body.js';
import { HeadstartError } from '../../../src/errors.js';
import { apiEvent, BOUNDARY, imageEvent, jsonEvent, multipartEvent } from './events.js';

const BYTES = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
const B64 = BYTES.toString('base64');

async function failure(promise: Promise<unknown>): Promise<HeadstartError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HeadstartError);
  return error as HeadstartError;
}

const read = (event: Parameters<typeof readRequestImages>[0], limits: RequestLimits = DEFAULT_LIMITS) => readRequestImages(event, limits);

describe('readRequestImages: the accepted forms', () => {
  it('a raw image/* body, base64 with isBase64Encoded', async () => {
    const images = await read(imageEvent(BYTES, 'image/png'));

    expect(images).toEqual({ sources: [{ name: 0, bytes: BYTES }], batch: false });
  });

  it('application/octet-stream, and a Content-Type with parameters in any case', async () => {
    const octet = await read(imageEvent(BYTES, 'application/octet-stream'));
    const upper = await read(imageEvent(BYTES, 'IMAGE/JPEG; charset=binary'));

    expect(octet.sources).toEqual([{ name: 0, bytes: BYTES }]);
    expect(upper.sources).toEqual([{ name: 0, bytes: BYTES }]);
  });

  it('JSON { image } in standard or URL-safe base64, as a data: URL, with line breaks', async () => {
    const plain = await read(jsonEvent({ image: B64 }));
    const dataUrl = await read(jsonEvent({ image: `data:image/jpeg;base64,${B64}` }));
    const wrapped = await read(jsonEvent({ image: `${B64.slice(0, 4)}\n${B64.slice(4)}` }));
    const urlSafe = await read(jsonEvent({ image: Buffer.from([0xfb, 0xff, 0xfe]).toString('base64url') }));

    for (const images of [plain, dataUrl, wrapped]) expect(images).toEqual({ sources: [{ name: 0, bytes: BYTES }], batch: false });
    expect(urlSafe.sources).toEqual([{ name: 0, bytes: Buffer.from([0xfb, 0xff, 0xfe]) }]);
  });

  it('JSON { key } under images/', async () => {
    const images = await read(jsonEvent({ key: 'images/uploads/cat.jpg' }));

    expect(images).toEqual({ sources: [{ name: 'images/uploads/cat.jpg', key: 'images/uploads/cat.jpg' }], batch: false });
  });

  it('JSON { images: [...] } mixing strings, { image, name } and { key }, as a batch', async () => {
    const images = await read(jsonEvent({ images: [B64, { image: B64, name: 'second.jpg' }, { key: 'images/a/b.png' }] }));

    expect(images.batch).toBe(true);
    expect(images.sources).toEqual([
      { name: 0, bytes: BYTES },
      { name: 'second.jpg', bytes: BYTES },
      { name: 'images/a/b.png', key: 'images/a/b.png' },
    ]);
  });

  it('application/*+json counts as JSON', async () => {
    const event = jsonEvent({ image: B64 });
    event.headers = { 'Content-Type': 'application/vnd.headstart+json' };

    expect((await read(event)).sources).toEqual([{ name: 0, bytes: BYTES }]);
  });

  it('multipart/form-data: every file part in order, named by filename, else by field', async () => {
    const images = await read(
      multipartEvent([
        { filename: 'a.jpg', bytes: BYTES },
        { field: 'photo', bytes: Buffer.from([1, 2, 3]) },
        { filename: 'empty.jpg', bytes: Buffer.alloc(0) },
      ]),
    );

    expect(images.batch).toBe(true);
    expect(images.sources).toEqual([
      { name: 'a.jpg', bytes: BYTES },
      { name: 'photo', bytes: Buffer.from([1, 2, 3]) },
      { name: 'empty.jpg', bytes: Buffer.alloc(0) },
    ]);
  });
});

describe('readRequestImages: bad requests', () => {
  it('EmptyBody for no body, an empty base64 body, { images: [] } and multipart without files', async () => {
    const noFiles = apiEvent({
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${BOUNDARY}--\r\n`,
    });
    const cases = [apiEvent({ headers: { 'Content-Type': 'image/jpeg' } }), imageEvent(Buffer.alloc(0)), jsonEvent({ images: [] }), noFiles];

    for (const event of cases) {
      const error = await failure(read(event));
      expect(error.code).toBe('EmptyBody');
      expect(error.message).toContain('No image to classify');
    }
  });

  it('PayloadTooLarge over the body limit, pointing to presigned uploads and { key }', async () => {
    const limits = { ...DEFAULT_LIMITS, maxBodyBytes: 1000 };

    const raw = await failure(read(imageEvent(Buffer.alloc(1001, 7)), limits));
    const json = await failure(read(jsonEvent({ image: Buffer.alloc(900).toString('base64') }), limits));

    for (const error of [raw, json]) {
      expect(error.code).toBe('PayloadTooLarge');
      expect(error.message).toContain('over the 1000-byte limit');
      expect(error.message).toContain('POST /uploads');
      expect(error.message).toContain('{ "key": "images/…" }');
    }
    expect(raw.message).toContain('is 1001 bytes');
  });

  it('the default limit is API Gateway’s 10 MB', async () => {
    const error = await failure(read(imageEvent(Buffer.alloc(10 * 1024 * 1024 + 1))));

    expect(error.code).toBe('PayloadTooLarge');
    expect(DEFAULT_LIMITS.maxBodyBytes).toBe(10_485_760);
  });

  it.each([
    ['text/plain', "Content-Type 'text/plain' is not accepted"],
    ['application/x-www-form-urlencoded', "Content-Type 'application/x-www-form-urlencoded' is not accepted"],
    [undefined, 'The request has no Content-Type'],
  ])('UnsupportedMediaType for %s, listing the accepted types', async (contentType, start) => {
    const event = apiEvent({ headers: contentType ? { 'Content-Type': contentType } : {}, body: 'abc' });

    const error = await failure(read(event));

    expect(error.code).toBe('UnsupportedMediaType');
    expect(error.message).toBe(
      `${start}: send 'image/*', 'application/octet-stream', 'application/json' or 'multipart/form-data' (e.g. curl -H 'Content-Type: image/jpeg' --data-binary @photo.jpg).`,
    );
  });

  it('MalformedJson for a JSON syntax error', async () => {
    const error = await failure(read(jsonEvent('{"image": "abc"')));

    expect(error.code).toBe('MalformedJson');
    expect(error.message).toMatch(/^The body is not valid JSON: /);
  });

  it.each([
    [[1, 2], "The JSON body must be an object with 'image' (base64), 'key' or 'images', got an array."],
    [{ url: 'http://x' }, "The JSON body must have 'image' (base64 bytes), 'key' (an object under images/) or 'images' (an array of either)."],
    [{ images: 'abc' }, "'images' must be an array, got a string."],
    [{ image: 42 }, "'image' must be a base64 string, got a number."],
    [{ image: B64, key: 'images/a.jpg' }, "Give either 'image' or 'key' for one image, not both (images[0])."],
    [{ key: 'models/heads/x/model.json' }, '\'key\' must name an object under images/ (e.g. images/uploads/photo.jpg), got "models/heads/x/model.json".'],
  ])('InvalidArgument for the JSON %j', async (body, message) => {
    const error = await failure(read(jsonEvent(body)));

    expect(error.code).toBe('InvalidArgument');
    expect(error.message).toBe(message);
  });

  it('InvalidBase64 for a single { image } that is not base64', async () => {
    const error = await failure(read(jsonEvent({ image: 'this is not base64!' })));

    expect(error.code).toBe('InvalidBase64');
    expect(error.message).toBe('Image 0 is not valid base64 (expected the file\'s bytes, base64-encoded).');
  });

  it("a { key } with an empty, '.' or '..' segment never leaves images/: that entry fails InvalidArgument", async () => {
    const keys = ['images/../jobs/j1.json', 'images/a/./b.png', 'images//b.png', 'images/a/..'];
    const images = await read(jsonEvent({ images: [...keys.map((key) => ({ key })), { key: 'images/a/b.png' }] }));

    expect(images.sources.map((s) => ('error' in s ? s.error.code : 'key' in s ? s.key : 'bytes'))).toEqual([
      'InvalidArgument', 'InvalidArgument', 'InvalidArgument', 'InvalidArgument', 'images/a/b.png',
    ]);
    expect('error' in images.sources[0]! && images.sources[0].error.message).toContain("the segment '..'");
  });

  it('in a batch, a bad entry becomes that entry’s error and the others stay', async () => {
    const images = await read(jsonEvent({ images: [B64, 'not base64!', 7, { key: 'weights/x' }, { image: B64, name: 'ok.jpg' }] }));

    const codes = images.sources.map((s) => ('error' in s ? s.error.code : 'ok'));
    expect(codes).toEqual(['ok', 'InvalidBase64', 'InvalidArgument', 'InvalidArgument', 'ok']);
    expect(images.sources[2]).toMatchObject({ name: 2 });
    expect('error' in images.sources[2]! && images.sources[2].error.message).toBe(
      'images[2] must be a base64 string, { "image": "<base64>" } or { "key": "images/…" }, got a number.',
    );
  });

  it('TooManyImages over maxImages, for JSON and multipart', async () => {
    const limits = { ...DEFAULT_LIMITS, maxImages: 2 };

    const json = await failure(read(jsonEvent({ images: [B64, B64, B64] }), limits));
    const form = await failure(read(multipartEvent([{ bytes: BYTES }, { bytes: BYTES }, { bytes: BYTES }]), limits));

    for (const error of [json, form]) {
      expect(error.code).toBe('InvalidArgument');
      expect(error.message).toBe('The request holds 3 images; at most 2 are classified per request. Split it into several requests.');
    }
  });

  it('MalformedMultipart for a missing boundary or a body cut before its end', async () => {
    const noBoundary = apiEvent({ headers: { 'content-type': 'multipart/form-data' }, body: 'abc' });
    const whole = multipartEvent([{ filename: 'a.jpg', bytes: BYTES }]);
    const cut = { ...whole, body: Buffer.from(whole.body!, 'base64').subarray(0, 80).toString('base64') };

    for (const event of [noBoundary, cut]) {
      const error = await failure(read(event));
      expect(error.code).toBe('MalformedMultipart');
      expect(error.message).toMatch(/^The multipart\/form-data body cannot be read: /);
    }
  });
});
