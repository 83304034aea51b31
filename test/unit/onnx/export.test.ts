import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { UnsupportedLayerError } from '../../../src/engine/onnx/errors.js';
import { exportToOnnx, findUnsupportedLayers } from '../../../src/engine/onnx/export.js';
import { onnx, ONNX_FLOAT, type OnnxTypes } from '../../../src/engine/onnx/proto.js';
import { OnnxModel } from '../../../src/engine/onnx/session.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { LIBRARY_VERSION } from '../../../src/version.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { call } from './helpers.js';

const L = () => tf.layers;

function convNet(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  const conv = L().conv2d({ filters: 2, kernelSize: [3, 1], strides: 2, padding: 'same', name: 'conv' });
  const out = call(L().dense({ units: 4, name: 'logits' }), call(L().flatten({ name: 'flat' }), call(conv, input)));
  return tf.model({ inputs: input, outputs: out, name: 'convnet' });
}

const decode = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes);
const dims = (v: OnnxTypes.IValueInfoProto) => v.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
const nodesOf = (m: OnnxTypes.ModelProto, op: string) => m.graph!.node!.filter((n: OnnxTypes.INodeProto) => n.opType === op);
const intsAttr = (n: OnnxTypes.INodeProto, name: string) => n.attribute!.find((a) => a.name === name)?.ints?.map(Number);

describe('exportToOnnx: the ModelProto', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('keeps the Keras input/output names, NHWC shapes and a dynamic batch N', () => {
    const model = convNet();
    const proto = decode(exportToOnnx(model));
    expect(proto.graph!.input!.map((i) => i.name)).toEqual(['image']);
    expect(dims(proto.graph!.input![0])).toEqual(['N', 8, 8, 3]);
    expect(proto.graph!.output!.map((o) => o.name)).toEqual(['logits']);
    expect(dims(proto.graph!.output![0])).toEqual(['N', 4]);
    expect(proto.graph!.input![0].type!.tensorType!.elemType).toBe(ONNX_FLOAT);
    model.dispose();
  });

  it('records opset 17, the producer and the library version by default', () => {
    const model = convNet();
    const proto = decode(exportToOnnx(model));
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(Number(proto.irVersion)).toBe(8);
    expect(proto.producerName).toBe('headstart');
    expect(proto.producerVersion).toBe(LIBRARY_VERSION);
    expect(proto.graph!.name).toBe('convnet');
    expect(decode(exportToOnnx(model, { opset: 21, producer: 'me' })).producerName).toBe('me');
    model.dispose();
  });

  it('writes the conv kernel as OIHW float32 raw_data and TF "same" padding as explicit asymmetric pads', () => {
    const model = convNet();
    const conv = model.getLayer('conv');
    const kernel = Float32Array.from({ length: 3 * 1 * 3 * 2 }, (_, i) => i); // HWIO [3, 1, 3, 2]
    const weights = [tf.tensor4d(kernel, [3, 1, 3, 2]), tf.zeros([2])];
    conv.setWeights(weights);
    tf.dispose(weights);
    const proto = decode(exportToOnnx(model));
    const weight = proto.graph!.initializer!.find((t) => t.name === 'conv/weight')!;
    expect(weight.dims!.map(Number)).toEqual([2, 3, 3, 1]);
    expect(weight.dataType).toBe(ONNX_FLOAT);
    const values = new Float32Array(Uint8Array.from(weight.rawData!).buffer);
    // OIHW[o][i][h][0] = HWIO[h][0][i][o] = h*6 + i*2 + o
    const expected: number[] = [];
    for (let o = 0; o < 2; o++) for (let i = 0; i < 3; i++) for (let h = 0; h < 3; h++) expected.push(h * 6 + i * 2 + o);
    expect(Array.from(values)).toEqual(expected);
    const [convNode] = nodesOf(proto, 'Conv');
    // 8 rows, kernel 3, stride 2: 1 pad total... ceil(8/2)=4 → (4-1)*2+3-8 = 1 → top 0, bottom 1; width kernel 1: none.
    expect(intsAttr(convNode, 'pads')).toEqual([0, 0, 1, 0]);
    expect(intsAttr(convNode, 'strides')).toEqual([2, 2]);
    model.dispose();
  });

  it('transposes to NCHW once after the input and back to NHWC before Flatten', () => {
    const model = convNet();
    const proto = decode(exportToOnnx(model));
    const perms = nodesOf(proto, 'Transpose').map((n) => intsAttr(n, 'perm'));
    expect(perms).toEqual([
      [0, 3, 1, 2],
      [0, 2, 3, 1],
    ]);
    const ops = proto.graph!.node!.map((n) => n.opType);
    expect(ops).toEqual(['Transpose', 'Conv', 'Transpose', 'Flatten', 'Gemm', 'Identity']);
    model.dispose();
  });

  it('keeps DenseNet-style channel concatenation in NCHW (axis 1, no transposes)', () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const a = call(L().conv2d({ filters: 2, kernelSize: 1 }), input);
    const b = call(L().conv2d({ filters: 2, kernelSize: 1 }), a);
    const out = call(L().globalAveragePooling2d({}), call(L().concatenate({}), [a, b]));
    const model = tf.model({ inputs: input, outputs: out });
    const proto = decode(exportToOnnx(model));
    expect(nodesOf(proto, 'Transpose')).toHaveLength(1);
    expect(Number(nodesOf(proto, 'Concat')[0].attribute!.find((x) => x.name === 'axis')!.i)).toBe(1);
    model.dispose();
  });

  it('creates no tensors', async () => {
    const model = convNet();
    await expectNoLeak(() => exportToOnnx(model));
    model.dispose();
  });

  it('folds BatchNormalization on a non-channel axis to x·s + t over that axis', async () => {
    // TF.js' wasm kernel ignores a non-last BatchNorm axis, so this is checked against the formula.
    const input = tf.input({ shape: [2, 3, 2] });
    const bn = L().batchNormalization({ axis: 1, epsilon: 0.5 });
    const model = tf.model({ inputs: input, outputs: call(bn, input) });
    const weights = [tf.tensor1d([2, 3]), tf.tensor1d([10, 20]), tf.tensor1d([1, -1]), tf.tensor1d([1.5, 3.5])];
    bn.setWeights(weights);
    tf.dispose(weights);
    const onnxModel = await OnnxModel.create(exportToOnnx(model));
    const x = Float32Array.from({ length: 12 }, (_, i) => i);
    const { data } = await onnxModel.run(x, [1, 2, 3, 2]);
    const expected = Array.from(x, (v, i) => {
      const h = Math.floor(i / 6);
      const [gamma, beta, mean, variance] = h === 0 ? [2, 10, 1, 1.5] : [3, 20, -1, 3.5];
      return ((v - mean) * gamma) / Math.sqrt(variance + 0.5) + beta;
    });
    Array.from(data).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
    onnxModel.dispose();
    model.dispose();
  });
});

describe('exportToOnnx: what it refuses', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('names every unsupported layer, with the reason when only a setting is unsupported', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const a = call(L().conv2d({ filters: 2, kernelSize: 3, dataFormat: 'channelsFirst', name: 'nchw_conv' }), input);
    const b = call(L().upSampling2d({ size: [2, 2], name: 'upsample' }), a);
    const c = call(L().conv2d({ filters: 2, kernelSize: 3, activation: 'gelu_new', name: 'gelu_conv' }), b);
    const model = tf.model({ inputs: input, outputs: call(L().globalAveragePooling2d({}), c) });

    expect(findUnsupportedLayers(model)).toEqual([
      { className: 'Conv2D', name: 'nchw_conv', reason: "dataFormat 'channelsFirst'" },
      { className: 'UpSampling2D', name: 'upsample' },
      { className: 'Conv2D', name: 'gelu_conv', reason: "activation 'gelu_new'" },
    ]);
    let error: unknown;
    try {
      exportToOnnx(model);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedLayerError);
    const e = error as UnsupportedLayerError;
    expect(e.code).toBe('UnsupportedLayer');
    expect(e.layers).toHaveLength(3);
    expect(e.message).toContain(
      "3 unsupported layer(s): Conv2D 'nchw_conv' (dataFormat 'channelsFirst'), UpSampling2D 'upsample', Conv2D 'gelu_conv' (activation 'gelu_new')",
    );
    expect(e.message).toMatch(/Supported layer classes: .*BatchNormalization.*Conv2D.*DepthwiseConv2D/);
    model.dispose();
  });

  it('refuses recurrent layers and a non-float input', () => {
    const tokens = tf.input({ shape: [5], dtype: 'int32', name: 'tokens' });
    const embedded = call(L().embedding({ inputDim: 10, outputDim: 4, name: 'embed' }), tokens);
    const model = tf.model({ inputs: tokens, outputs: call(L().lstm({ units: 3, name: 'lstm' }), embedded) });
    expect(() => exportToOnnx(model)).toThrow(UnsupportedLayerError);
    expect(findUnsupportedLayers(model).map((l) => `${l.className}:${l.name}:${l.reason ?? ''}`)).toEqual([
      "InputLayer:tokens:dtype 'int32'",
      'Embedding:embed:',
      'LSTM:lstm:',
    ]);
    model.dispose();
  });

  it('checks the layers inside a nested model too', () => {
    const inner = tf.sequential({ layers: [L().upSampling2d({ inputShape: [4, 4, 3], name: 'inner_up' })], name: 'inner' });
    const input = tf.input({ shape: [4, 4, 3] });
    const model = tf.model({ inputs: input, outputs: call(inner, input) });
    expect(findUnsupportedLayers(model)).toEqual([{ className: 'UpSampling2D', name: 'inner_up' }]);
    model.dispose();
  });

  it.each([12, 22, 17.5])('rejects opset %s with the valid values', (opset) => {
    const model = convNet();
    expect(() => exportToOnnx(model, { opset })).toThrow(InvalidArgumentError);
    expect(() => exportToOnnx(model, { opset })).toThrow(
      `Unsupported ONNX opset ${opset}: expected 13, 14, 15, 16, 17, 18, 19, 20 or 21.`,
    );
    model.dispose();
  });
});
