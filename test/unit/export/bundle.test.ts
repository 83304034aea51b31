import * as ort from 'onnxruntime-node';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { buildBundle, COMMON_FILES, MODEL_FILES, parseExportFormat, PARITY_TOLERANCE, type ExportSource, type ParityFile } from '../../../src/export/index.js';
import { PIL_NEAREST_JS } from '../../../src/export/readme.js';
import { pilNearestIndices } from '../../../src/image/resize.js';
import { randomizeWeights } from '../onnx/helpers.js';
import { expectNoLeak } from '../../helpers/tf.js';

const LABELS = ['cat', 'dog', 'fox'];
const SIZE: [number, number] = [12, 10];

/** A small base (conv → BatchNorm → pooling, 4 features) and an MLP head, as a head's export source holds them. */
function headSource(preprocess: ExportSource['input']['preprocess'] = 'caffe'): ExportSource {
  const input = tf.input({ shape: [...SIZE, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const network = tf.model({ inputs: input, outputs: x, name: 'tiny_base' });
  randomizeWeights(network, 3);
  const head = tf.sequential({ name: 'head', layers: [tf.layers.dense({ units: 5, activation: 'relu', inputShape: [4] }), tf.layers.dropout({ rate: 0.2 }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
  return {
    id: 'pets-head',
    kind: 'head',
    model: 'tiny',
    weightsDigest: '0123456789abcdef',
    network,
    head,
    labels: LABELS,
    input: { size: SIZE, preprocess, interpolation: 'nearest' },
    dispose: () => {
      network.dispose();
      head.dispose();
    },
  };
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

beforeAll(async () => {
  await initBackend('cpu');
});

describe('buildBundle', () => {
  it("'onnx': model.onnx + labels.json + parity.json + README.md; ONNX Runtime on parity.json's uint8 inputs gives its probabilities", async () => {
    const source = headSource('caffe');
    const bundle = await expectNoLeak(() => buildBundle(source, 'onnx'));
    source.dispose();

    const unzipped = unzipSync(bundle.zip);
    expect(Object.keys(unzipped)).toEqual([...MODEL_FILES.onnx, ...COMMON_FILES]);
    expect(Object.keys(bundle.files)).toEqual(Object.keys(unzipped));
    expect(bundle.fileName).toBe('pets-head-onnx.zip');
    expect(JSON.parse(text(unzipped['labels.json']!))).toEqual(LABELS);
    const parity = JSON.parse(text(unzipped['parity.json']!)) as ParityFile;
    expect(parity.input).toMatchObject({ name: 'image', dtype: 'uint8', shape: [3, 12, 10, 3] });
    expect(parity.tolerance).toBe(PARITY_TOLERANCE);
    expect(parity.cases.map((c) => c.name)).toEqual(['gradient', 'blocks', 'noise']);

    const session = await ort.InferenceSession.create(unzipped['model.onnx']!);
    expect(session.inputNames).toEqual(['image']);
    expect(session.outputNames).toEqual(['probabilities']);
    const pixels = Buffer.concat(parity.cases.map((c) => Buffer.from(c.pixels, 'base64')));
    const { probabilities } = await session.run({ image: new ort.Tensor('uint8', Uint8Array.from(pixels), parity.input.shape) });
    expect(probabilities!.dims).toEqual([3, 3]);
    const got = probabilities!.data as Float32Array;
    parity.cases.forEach((c, i) => c.probabilities.forEach((p, j) => expect(Math.abs(got[i * 3 + j]! - p)).toBeLessThan(PARITY_TOLERANCE)));
    await session.release();
  });

  it("'tfjs': model.json + model.weights.bin load with plain tf.loadLayersModel and give parity.json's probabilities on float32 pixels", async () => {
    const source = headSource('torch');
    const bundle = await buildBundle(source, 'tfjs');
    source.dispose();
    const unzipped = unzipSync(bundle.zip);
    expect(Object.keys(unzipped)).toEqual([...MODEL_FILES.tfjs, ...COMMON_FILES]);
    const modelJson = JSON.parse(text(unzipped['model.json']!));
    expect(modelJson.weightsManifest[0].paths).toEqual(['model.weights.bin']);

    const weights = unzipped['model.weights.bin']!;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: weights.slice().buffer }));
    const parity = JSON.parse(text(unzipped['parity.json']!)) as ParityFile;
    const pixels = Float32Array.from(Buffer.concat(parity.cases.map((c) => Buffer.from(c.pixels, 'base64'))));
    const got = tf.tidy(() => (model.predict(tf.tensor4d(pixels, parity.input.shape)) as tf.Tensor).dataSync());
    model.dispose();
    parity.cases.forEach((c, i) => c.probabilities.forEach((p, j) => expect(Math.abs(got[i * 3 + j]! - p)).toBeLessThan(PARITY_TOLERANCE)));
    expect(parity.cases[0]!.top1.label).toBe(LABELS[parity.cases[0]!.top1.index]);
  });

  it('the README says the input, its dtype per format, the interpolation in Python and JS, and has both examples', async () => {
    const source = headSource('tf');
    const onnx = text((await buildBundle(source, 'onnx')).files['README.md']!);
    const tfjs = text((await buildBundle(source, 'tfjs')).files['README.md']!);
    source.dispose();
    expect(onnx).toContain('`[N, 12, 10, 3]`, uint8');
    expect(tfjs).toContain('float32 (values 0–255; `tf.browser.fromPixels` gives int32: cast it)');
    for (const readme of [onnx, tfjs]) {
      expect(readme).toContain('**nearest** interpolation');
      expect(readme).toContain('.resize((10, 12), Image.NEAREST)');
      expect(readme).toContain(PIL_NEAREST_JS);
      expect(readme).toContain('const resized = resize(tf.browser.fromPixels(img), [12, 10]);');
      expect(readme).toContain("ort.InferenceSession('model.onnx')");
      expect(readme).toContain("tf.loadLayersModel('model.json')");
    }
  });
});

describe("the README's JS resize", () => {
  it("picks PIL's pixels (src/image/resize.ts), also where tf.image.resizeNearestNeighbor does not (512 → 224)", () => {
    const resize = new Function('tf', `${PIL_NEAREST_JS}\nreturn resize;`)(tf) as (x: tf.Tensor, size: [number, number]) => tf.Tensor;
    const rows = 512;
    const image = tf.tidy(() => tf.range(0, rows * 3).reshape([rows, 3, 1]).tile([1, 1, 3]));
    const got = tf.tidy(() => resize(image, [224, 3]).slice([0, 0, 0], [224, 1, 1]).reshape([224]).dataSync());
    const closedForm = tf.tidy(() => tf.image.resizeNearestNeighbor(image as tf.Tensor3D, [224, 3], false, true).slice([0, 0, 0], [224, 1, 1]).reshape([224]).dataSync());
    image.dispose();
    expect(Array.from(got)).toEqual(Array.from(pilNearestIndices(rows, 224), (i) => i * 3));
    expect(Array.from(closedForm)).not.toEqual(Array.from(got));
  });
});

describe('parseExportFormat', () => {
  it('takes onnx and tfjs, and lists them when the format is missing or unknown', () => {
    expect(parseExportFormat('onnx')).toBe('onnx');
    expect(parseExportFormat('tfjs')).toBe('tfjs');
    expect(() => parseExportFormat(undefined)).toThrow("'format' is required: 'onnx' or 'tfjs'.");
    expect(() => parseExportFormat('tflite')).toThrow("Unknown export format 'tflite': expected 'onnx' or 'tfjs'.");
  });
});
