import { imagenetLabel, IMAGENET_CLASS_COUNT } from '../classify/index.js';
import { tf } from '../engine/backend.js';
import { InvalidArgumentError, listValues } from '../errors.js';
import { FinetuneNetwork, headFromRegistry, type HeadLayers } from '../finetune/index.js';
import { loadImage } from '../image/load.js';
import { preprocessInto } from '../image/preprocess.js';
import type { HeadInfo } from '../registry/index.js';
import type { ObjectStore } from '../store/index.js';
import { headstartHome, loadModel } from '../weights/index.js';
import { syncWeightsFromStore } from '../weights/bucket.js';
import { getModelSpec, poolingLayerName, type ModelSpec } from '../zoo/index.js';
import type { Interpolation } from '../zoo/types.js';
import { gradCam, type ExplainOutput, type GradCamResult } from './gradcam.js';

/**
 * A network Grad-CAM can explain: a classifier cut at the layer it explains (FinetuneNetwork: the frozen part
 * up to that layer, the rest differentiated), with its labels and how it takes images. `dispose()` frees it.
 */
export interface ExplainNetwork {
  /** The zoo model of the base. */
  model: string;
  /** The explained layer: the base's last convolutional feature map unless asked. */
  layer: string;
  labels: readonly string[];
  output: ExplainOutput;
  inputSize: [number, number];
  interpolation: Interpolation;
  /** Grad-CAM of one encoded image: decoded and preprocessed as the network's features were. */
  explain(bytes: Uint8Array, classIndex?: number): Promise<GradCamResult>;
  dispose(): void;
}

export interface OpenExplainOptions {
  /** The layer to explain (a 4-D feature map of the base). @default the base's last one */
  layer?: string;
  /** The weights cache; weights missing there are copied from the bucket's `weights/` when `store` is given. */
  home?: string;
  store?: ObjectStore;
  /** Resize filter of the classifier's input (a head's is its features'). @default 'nearest' */
  interpolation?: Interpolation;
}

/**
 * The index in `base.layers` of the explained layer: the named one, else the last whose output is a 4-D
 * feature map (DenseNet121 'relu', ResNet50 'conv5_block3_out', VGG16 'block5_pool', MobileNetV2 'out_relu').
 */
function explainedLayerIndex(base: tf.LayersModel, spec: ModelSpec, layer: string | undefined): number {
  const isMap = (l: tf.layers.Layer) => l.getClassName() !== 'InputLayer' && (l.outputShape as number[]).length === 4;
  const maps = base.layers.flatMap((l, i) => (isMap(l) ? [i] : []));
  if (layer === undefined) return maps[maps.length - 1]!;
  const index = base.layers.findIndex((l) => l.name === layer);
  if (index < 0 || !maps.includes(index)) {
    const examples = maps.slice(-6).map((i) => base.layers[i]!.name);
    throw new InvalidArgumentError(`Unknown layer '${layer}' to explain in ${spec.id}: expected a layer with a 4-D feature map, such as ${listValues(examples)}.`);
  }
  return index;
}

/**
 * Puts `head` on `base` and cuts the network just after the explained layer (every later layer is the
 * differentiated part). Takes ownership of `base` and `head`, disposed on failure.
 */
function cutAt(base: tf.LayersModel, head: HeadLayers, spec: ModelSpec, layer: string | undefined): { network: FinetuneNetwork; layer: string } {
  let network: FinetuneNetwork;
  let explained: tf.layers.Layer;
  try {
    const index = explainedLayerIndex(base, spec, layer);
    explained = base.layers[index]!;
    network = FinetuneNetwork.create(base, head, base.layers[index + 1]!.name);
  } catch (error) {
    base.dispose();
    throw error;
  }
  const [cut, ...others] = network.frontier;
  if (others.length > 0 || cut?.sourceLayer !== explained) {
    const readers = network.frontier.map((t) => t.sourceLayer.name).filter((n) => n !== explained.name);
    network.dispose();
    throw new InvalidArgumentError(`Layer '${explained.name}' of ${spec.id} is not a cut through the network: later layers also read ${listValues(readers)}. Name a layer at the end of a block.`);
  }
  return { network, layer: explained.name };
}

async function ensureWeights(spec: ModelSpec, variants: Array<'top' | 'notop'>, options: OpenExplainOptions): Promise<void> {
  if (!options.store) return;
  for (const variant of variants) if (await syncWeightsFromStore(options.store, spec.id, variant, headstartHome(options.home))) return;
}

/** A zoo model's ImageNet classifier, loaded without its softmax (Keras `classifier_activation=None`): Grad-CAM of its logits. */
export async function openClassifierExplainer(modelId: string, options: OpenExplainOptions = {}): Promise<ExplainNetwork> {
  const spec = getModelSpec(modelId);
  await ensureWeights(spec, ['top'], options);
  const { model } = await loadModel(spec.id, { classifierActivation: 'linear', home: options.home });
  const { network, layer } = cutAt(model, { layers: [], fromHead: null }, spec, options.layer);
  const labels = Array.from({ length: IMAGENET_CLASS_COUNT }, (_, i) => imagenetLabel(i));
  return explainer(network, { model: spec.id, layer, labels, output: 'logits', spec, inputSize: [spec.inputSize, spec.inputSize], interpolation: options.interpolation ?? 'nearest' });
}

/**
 * A published head on its base: the no-top base with global average pooling, then the head's layers and
 * weights (src/finetune/head.ts). Heads trained on the base's global average pooling only: what the base's
 * feature map reaches through a pooling layer of its own.
 * @throws InvalidArgumentError for a head on other features; HeadNotFoundError
 */
export async function openHeadExplainer(store: ObjectStore, headId: string, info: HeadInfo, options: OpenExplainOptions = {}): Promise<ExplainNetwork> {
  const spec = getModelSpec(info.base.model);
  const avg = poolingLayerName(spec, 'avg');
  if (info.base.pooling !== 'avg' && info.base.layer !== avg) {
    throw new InvalidArgumentError(
      `Head '${headId}' was trained on ${info.base.namespace} features; Grad-CAM explains heads on the global average pooling of their base (layer '${avg}' or pooling 'avg').`,
    );
  }
  const [height, width] = info.base.inputSize;
  await ensureWeights(spec, ['notop', 'top'], { ...options, store });
  const { model } = await loadModel(spec.id, { includeTop: false, pooling: 'avg', inputShape: [height, width, 3], home: options.home });
  let head: HeadLayers;
  try {
    head = await headFromRegistry(store, headId, { spec, featureDim: model.outputs[0]!.shape[1] as number, labels: info.labels });
  } catch (error) {
    model.dispose();
    throw error;
  }
  const { network, layer } = cutAt(model, head, spec, options.layer);
  return explainer(network, { model: spec.id, layer, labels: info.labels, output: 'probabilities', spec, inputSize: [height, width], interpolation: info.base.interpolation });
}

function explainer(
  network: FinetuneNetwork,
  about: Omit<ExplainNetwork, 'explain' | 'dispose'> & { spec: ModelSpec },
): ExplainNetwork {
  const { spec, ...rest } = about;
  return {
    ...rest,
    async explain(bytes, classIndex) {
      const image = await loadImage(bytes, { targetSize: about.inputSize, interpolation: about.interpolation });
      const input = new Float32Array(image.data.length);
      preprocessInto(image.data, input, 0, spec.preprocess);
      const x = tf.tensor4d(input, [1, about.inputSize[0], about.inputSize[1], 3]);
      try {
        return gradCam(network, x, about.output, classIndex);
      } finally {
        x.dispose();
      }
    },
    dispose: () => network.dispose(),
  };
}
