import { InvalidArgumentError, listValues } from '../errors.js';
import { MODEL_IDS, type ModelId } from '../zoo/types.js';
import type { WeightsVariant } from './types.js';

/** One official Keras Applications weights file. */
export interface OfficialWeightsFile {
  /** File name as Keras caches it in ~/.keras/models. */
  fileName: string;
  url: string;
  /**
   * The md5 Keras passes as `file_hash` to `get_file`. `null` where Keras publishes none
   * (MobileNetV2): the download is then trusted on first use and its sha256 recorded in the cache index.
   */
  md5: string | null;
}

export interface ModelWeightsInfo {
  top: OfficialWeightsFile;
  notop: OfficialWeightsFile;
  /**
   * Source layer name → zoo layer name, for layers the official files name differently from current
   * Keras builders (passed to applyWeights).
   */
  aliases: Record<string, string>;
}

export const KERAS_WEIGHTS_BASE_URL = 'https://storage.googleapis.com/tensorflow/keras-applications';

function official(folder: string, fileName: string, md5: string | null): OfficialWeightsFile {
  return { fileName, url: `${KERAS_WEIGHTS_BASE_URL}/${folder}/${fileName}`, md5 };
}

/**
 * The files keras/src/applications/*.py download for `weights='imagenet'`, with their `file_hash`
 * values (vgg16.py, vgg19.py, resnet.py WEIGHTS_HASHES, inception_v3.py, mobilenet_v2.py, densenet.py).
 */
export const OFFICIAL_WEIGHTS: Readonly<Record<ModelId, ModelWeightsInfo>> = {
  vgg16: {
    top: official('vgg16', 'vgg16_weights_tf_dim_ordering_tf_kernels.h5', '64373286793e3c8b2b4e3219cbf3544b'),
    notop: official('vgg16', 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', '6d6bbae143d832006294945121d1f1fc'),
    aliases: {},
  },
  vgg19: {
    top: official('vgg19', 'vgg19_weights_tf_dim_ordering_tf_kernels.h5', 'cbe5617147190e668d6c5d5026f83318'),
    notop: official('vgg19', 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5', '253f8cb515780f3b799900260a226db6'),
    aliases: {},
  },
  resnet50: {
    top: official('resnet', 'resnet50_weights_tf_dim_ordering_tf_kernels.h5', '2cb95161c43110f7111970584f804107'),
    notop: official('resnet', 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5', '4d473c1dd8becc155b73f8504c6f6626'),
    aliases: {},
  },
  inception_v3: {
    top: official('inception_v3', 'inception_v3_weights_tf_dim_ordering_tf_kernels.h5', '9a0d58056eeedaa3f26cb7ebd46da564'),
    notop: official('inception_v3', 'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5', 'bcbd6486424b2319ff4ef7d526e38f63'),
    aliases: {},
  },
  mobilenet_v2: {
    // Keras names the file after alpha and the input size; the zoo builds α=1.0 at 224.
    top: official('mobilenet_v2', 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5', null),
    notop: official('mobilenet_v2', 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5', null),
    aliases: {},
  },
  densenet121: {
    top: official('densenet', 'densenet121_weights_tf_dim_ordering_tf_kernels.h5', '9d60b8095a5708f2dcce2bca79d332c7'),
    notop: official('densenet', 'densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5', '30ee3e1110167f948a6b9946edeeb738'),
    // keras-applications 1.0 (and these files) called the classifier 'fc1000'; Keras 3 calls it 'predictions'.
    aliases: { fc1000: 'predictions' },
  },
};

/** Validates a model id at the edge, listing the valid ones. */
export function assertModelId(id: string): asserts id is ModelId {
  if (!(MODEL_IDS as readonly string[]).includes(id)) {
    throw new InvalidArgumentError(`Unknown model '${id}': expected ${listValues(MODEL_IDS)}.`);
  }
}

export function officialWeightsFile(id: ModelId, variant: WeightsVariant): OfficialWeightsFile {
  return OFFICIAL_WEIGHTS[id][variant];
}
