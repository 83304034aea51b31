/**
 * InceptionV3, as keras/src/applications/inception_v3.py builds it.
 *
 * Keras names only the `mixed*` concatenations, `avg_pool` and `predictions`; every other layer is
 * auto-named. The official `inception_v3_weights_tf_dim_ordering_tf_kernels(_notop).h5` files were
 * written by standalone Keras 2.0, whose auto names are 1-based (`conv2d_1` … `conv2d_94`,
 * `batch_normalization_1` … `_94`, `activation_1` … `_94`, `max_pooling2d_1` … `_4`,
 * `average_pooling2d_1` … `_9`, `concatenate_1`, `_2`). Weights load by name, so the zoo uses that
 * convention (naming.ts 'keras2.0'), not Keras 3's `conv2d`, `conv2d_1`, … ; the no-top pooling
 * follows it too (`global_average_pooling2d_1`).
 */
import { tf } from '../../engine/backend.js';
import { createAutoNamer, type AutoNamer } from '../naming.js';
import { call, conv2d, CHANNEL_AXIS, classifierOrPooling, functionalModel, imageInput, type PoolingNames, type Sym } from '../layers.js';
import type { ModelSpec } from '../types.js';
import { validateZooOptions, type ResolvedZooOptions } from '../validate.js';

export const INCEPTION_POOLING_NAMES: PoolingNames = { avg: 'global_average_pooling2d_1', max: 'global_max_pooling2d_1' };

type Padding = 'same' | 'valid';

/** Builds one InceptionV3 graph; holds the per-build auto namer. */
class InceptionBuilder {
  private readonly autoName: AutoNamer = createAutoNamer('keras2.0');

  /** Keras `conv2d_bn`: bias-free conv, batch norm without scale, relu. */
  conv2dBn(x: Sym, filters: number, rows: number, cols: number, padding: Padding = 'same', strides = 1): Sym {
    const n = this.autoName;
    x = call(conv2d({ filters, kernelSize: [rows, cols], strides, padding, useBias: false, name: n('conv2d') }), x);
    x = call(tf.layers.batchNormalization({ axis: CHANNEL_AXIS, scale: false, name: n('batch_normalization') }), x);
    return call(tf.layers.activation({ activation: 'relu', name: n('activation') }), x);
  }

  maxPool(x: Sym): Sym {
    return call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: this.autoName('max_pooling2d') }), x);
  }

  /** The 3x3 stride-1 'same' average pool that starts each mixed block's pool branch. */
  avgPool(x: Sym): Sym {
    return call(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: this.autoName('average_pooling2d') }), x);
  }

  concat(branches: Sym[], name?: string): Sym {
    return call(tf.layers.concatenate({ axis: CHANNEL_AXIS, name: name ?? this.autoName('concatenate') }), branches);
  }

  stem(input: Sym): Sym {
    let x = this.conv2dBn(input, 32, 3, 3, 'valid', 2);
    x = this.conv2dBn(x, 32, 3, 3, 'valid');
    x = this.conv2dBn(x, 64, 3, 3);
    x = this.maxPool(x);
    x = this.conv2dBn(x, 80, 1, 1, 'valid');
    x = this.conv2dBn(x, 192, 3, 3, 'valid');
    return this.maxPool(x);
  }

  /** mixed0–2: 35x35; `poolFilters` is 32 for mixed0, 64 after. */
  block35(x: Sym, poolFilters: number, name: string): Sym {
    const branch1x1 = this.conv2dBn(x, 64, 1, 1);
    let branch5x5 = this.conv2dBn(x, 48, 1, 1);
    branch5x5 = this.conv2dBn(branch5x5, 64, 5, 5);
    let branch3x3dbl = this.conv2dBn(x, 64, 1, 1);
    branch3x3dbl = this.conv2dBn(branch3x3dbl, 96, 3, 3);
    branch3x3dbl = this.conv2dBn(branch3x3dbl, 96, 3, 3);
    const branchPool = this.conv2dBn(this.avgPool(x), poolFilters, 1, 1);
    return this.concat([branch1x1, branch5x5, branch3x3dbl, branchPool], name);
  }

  /** mixed3: 35x35 → 17x17. */
  reduction17(x: Sym): Sym {
    const branch3x3 = this.conv2dBn(x, 384, 3, 3, 'valid', 2);
    let branch3x3dbl = this.conv2dBn(x, 64, 1, 1);
    branch3x3dbl = this.conv2dBn(branch3x3dbl, 96, 3, 3);
    branch3x3dbl = this.conv2dBn(branch3x3dbl, 96, 3, 3, 'valid', 2);
    const branchPool = this.maxPool(x);
    return this.concat([branch3x3, branch3x3dbl, branchPool], 'mixed3');
  }

  /** mixed4–7: 17x17 with factorised 7x7 convolutions of `width` inner filters. */
  block17(x: Sym, width: number, name: string): Sym {
    const branch1x1 = this.conv2dBn(x, 192, 1, 1);
    let branch7x7 = this.conv2dBn(x, width, 1, 1);
    branch7x7 = this.conv2dBn(branch7x7, width, 1, 7);
    branch7x7 = this.conv2dBn(branch7x7, 192, 7, 1);
    let branch7x7dbl = this.conv2dBn(x, width, 1, 1);
    branch7x7dbl = this.conv2dBn(branch7x7dbl, width, 7, 1);
    branch7x7dbl = this.conv2dBn(branch7x7dbl, width, 1, 7);
    branch7x7dbl = this.conv2dBn(branch7x7dbl, width, 7, 1);
    branch7x7dbl = this.conv2dBn(branch7x7dbl, 192, 1, 7);
    const branchPool = this.conv2dBn(this.avgPool(x), 192, 1, 1);
    return this.concat([branch1x1, branch7x7, branch7x7dbl, branchPool], name);
  }

  /** mixed8: 17x17 → 8x8. */
  reduction8(x: Sym): Sym {
    let branch3x3 = this.conv2dBn(x, 192, 1, 1);
    branch3x3 = this.conv2dBn(branch3x3, 320, 3, 3, 'valid', 2);
    let branch7x7x3 = this.conv2dBn(x, 192, 1, 1);
    branch7x7x3 = this.conv2dBn(branch7x7x3, 192, 1, 7);
    branch7x7x3 = this.conv2dBn(branch7x7x3, 192, 7, 1);
    branch7x7x3 = this.conv2dBn(branch7x7x3, 192, 3, 3, 'valid', 2);
    const branchPool = this.maxPool(x);
    return this.concat([branch3x3, branch7x7x3, branchPool], 'mixed8');
  }

  /** mixed9, mixed10: 8x8 with split 1x3 / 3x1 branches (`i` is 0 or 1, as in the Keras loop). */
  block8(x: Sym, i: number): Sym {
    const branch1x1 = this.conv2dBn(x, 320, 1, 1);
    const branch3x3 = this.conv2dBn(x, 384, 1, 1);
    const branch3x3Split = this.concat([this.conv2dBn(branch3x3, 384, 1, 3), this.conv2dBn(branch3x3, 384, 3, 1)], `mixed9_${i}`);
    let branch3x3dbl = this.conv2dBn(x, 448, 1, 1);
    branch3x3dbl = this.conv2dBn(branch3x3dbl, 384, 3, 3);
    const branch3x3dblSplit = this.concat([this.conv2dBn(branch3x3dbl, 384, 1, 3), this.conv2dBn(branch3x3dbl, 384, 3, 1)]);
    const branchPool = this.conv2dBn(this.avgPool(x), 192, 1, 1);
    return this.concat([branch1x1, branch3x3Split, branch3x3dblSplit, branchPool], `mixed${9 + i}`);
  }

  build(options: ResolvedZooOptions): tf.LayersModel {
    const input = imageInput(options);
    let x = this.stem(input);
    x = this.block35(x, 32, 'mixed0');
    x = this.block35(x, 64, 'mixed1');
    x = this.block35(x, 64, 'mixed2');
    x = this.reduction17(x);
    x = this.block17(x, 128, 'mixed4');
    x = this.block17(x, 160, 'mixed5');
    x = this.block17(x, 160, 'mixed6');
    x = this.block17(x, 192, 'mixed7');
    x = this.reduction8(x);
    x = this.block8(x, 0);
    x = this.block8(x, 1);
    const names: PoolingNames = { ...INCEPTION_POOLING_NAMES, avg: options.includeTop ? 'avg_pool' : INCEPTION_POOLING_NAMES.avg };
    return functionalModel(input, classifierOrPooling(x, options, names), 'inception_v3');
  }
}

export const inceptionV3Spec: ModelSpec = {
  id: 'inception_v3',
  kerasName: 'inception_v3',
  displayName: 'InceptionV3',
  inputSize: 299,
  minInputSize: 75,
  preprocess: 'tf',
  paramsWithTop: 23_851_784,
  defaultFeatureLayer: 'avg_pool',
  defaultFeatureDim: 2048,
  featureLayers: { avg_pool: 2048, mixed10: 2048, mixed9: 2048, mixed8: 1280, mixed7: 768, mixed5: 768, mixed2: 288 },
  build: (options) => new InceptionBuilder().build(validateZooOptions(inceptionV3Spec, options)),
};
