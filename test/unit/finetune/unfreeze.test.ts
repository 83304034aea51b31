import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { FinetuneNetwork, UnfreezeSpecError, blockPrefixes, freshHead, resolveUnfreeze } from '../../../src/finetune/index.js';
import { buildModel } from '../../../src/zoo/index.js';

/** input_1 → mixed8 → conv2d_90 → mixed9_0 → mixed9 → conv2d_95 → mixed10: InceptionV3's naming at its top. */
function inceptionLikeTop(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 2], name: 'input_1' });
  let x: tf.SymbolicTensor = input;
  for (const name of ['mixed8', 'conv2d_90', 'mixed9_0', 'mixed9', 'conv2d_95', 'mixed10']) {
    x = tf.layers.conv2d({ filters: 2, kernelSize: 1, name }).apply(x) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: input, outputs: x, name: 'tiny' });
}

let tiny: tf.LayersModel;
let densenet: tf.LayersModel;
let mobilenet: tf.LayersModel;

beforeAll(async () => {
  await initBackend();
  tiny = inceptionLikeTop();
  densenet = buildModel('densenet121', { includeTop: false, pooling: 'avg', inputShape: [32, 32, 3] });
  mobilenet = buildModel('mobilenet_v2', { includeTop: false, pooling: 'avg', inputShape: [32, 32, 3] });
});

afterAll(() => {
  tiny.dispose();
  mobilenet.dispose();
});

const firstOf = (model: tf.LayersModel, spec: Parameters<typeof resolveUnfreeze>[1]) => resolveUnfreeze(model, spec).firstLayer;

describe('resolveUnfreeze', () => {
  it('takes an exact layer name before a block prefix: that layer and everything after it', () => {
    const plan = resolveUnfreeze(tiny, 'mixed9');
    expect(plan.trainable.map((l) => l.name)).toEqual(['mixed9', 'conv2d_95', 'mixed10']);
    expect(plan.frozen.map((l) => l.name)).toEqual(['input_1', 'mixed8', 'conv2d_90', 'mixed9_0']);
  });

  it('matches a block prefix only at a separator', () => {
    expect(firstOf(tiny, 'mixed9_')).toBe('mixed9_0');
    expect(firstOf(tiny, 'conv2d')).toBe('conv2d_90');
    expect(firstOf(mobilenet, 'block_1')).toBe('block_1_expand');
    expect(firstOf(mobilenet, 'block_16')).toBe('block_16_expand');
    expect(firstOf(densenet, 'conv5')).toBe('conv5_block1_0_bn');
    expect(firstOf(densenet, 'conv5_block1')).toBe('conv5_block1_0_bn');
    expect(firstOf(densenet, 'conv5_block16')).toBe('conv5_block16_0_bn');
    // 'mixed1' is a prefix of 'mixed10' but not a block of it.
    expect(() => resolveUnfreeze(tiny, 'mixed1')).toThrow(UnfreezeSpecError);
  });

  it('counts lastN from the top, the input layer never included', () => {
    expect(resolveUnfreeze(tiny, { lastN: 2 }).trainable.map((l) => l.name)).toEqual(['conv2d_95', 'mixed10']);
    expect(resolveUnfreeze(tiny, { lastN: 0 })).toMatchObject({ firstLayer: null, trainable: [] });
    expect(resolveUnfreeze(tiny, { lastN: 6 }).frozen.map((l) => l.name)).toEqual(['input_1']);
    expect(() => resolveUnfreeze(tiny, { lastN: 7 })).toThrow('unfreeze.lastN must be an integer from 0 to 6 (the layers of tiny after its input), got 7.');
    expect(() => resolveUnfreeze(tiny, { lastN: -1 })).toThrow(UnfreezeSpecError);
  });

  it("lists the model's own block prefixes when nothing matches", () => {
    expect(() => resolveUnfreeze(densenet, 'block5')).toThrow(
      /^Unknown layer or block 'block5' in densenet121: expected a layer name \(model.layers lists them\), a block prefix such as .*'pool4' or 'conv5', or \{ lastN: n \} with 0 ≤ n ≤ 427\.$/,
    );
    expect(() => resolveUnfreeze(mobilenet, 'conv5')).toThrow(/'block_15', 'block_16' or 'Conv_1'/);
  });
});

describe('blockPrefixes', () => {
  it('finds the blocks of DenseNet121 and MobileNetV2 in layer order', () => {
    expect(blockPrefixes(densenet)).toEqual(expect.arrayContaining(['conv1', 'conv2', 'pool2', 'conv3', 'pool3', 'conv4', 'pool4', 'conv5']));
    expect(blockPrefixes(densenet).indexOf('pool4')).toBeLessThan(blockPrefixes(densenet).indexOf('conv5'));
    expect(blockPrefixes(mobilenet).filter((p) => p.startsWith('block_'))).toEqual(Array.from({ length: 16 }, (_, i) => `block_${i + 1}`));
  });
});

describe('the frozen frontier', () => {
  it('is the output the first trainable block reads: pool4_pool for conv5, the previous concat for conv5_block16', () => {
    // The network takes ownership of the base; build one per case.
    for (const [spec, expected] of [['conv5', 'pool4_pool'], ['conv5_block16', 'conv5_block15_concat']] as const) {
      const base = spec === 'conv5' ? densenet : buildModel('densenet121', { includeTop: false, pooling: 'avg', inputShape: [32, 32, 3] });
      const network = FinetuneNetwork.create(base, freshHead(2, { hidden: 4, dropout: 0.2, seed: 1 }), spec);
      expect(network.frontier.map((t) => t.sourceLayer.name)).toEqual([expected]);
      network.dispose();
    }
  });
});
