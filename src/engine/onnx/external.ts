import { InvalidArgumentError, listValues } from '../../errors.js';
import type { PreprocessMode } from '../../zoo/types.js';
import type { Extractor } from '../extractor.js';
import { OnnxModelError } from './errors.js';
import { OnnxExtractor } from './extractor.js';
import { OnnxModel, type OnnxSessionOptions, type OnnxTensorInfo } from './session.js';

const PREPROCESS_MODES: readonly PreprocessMode[] = ['caffe', 'tf', 'torch'];

export interface ExternalOnnxOptions extends OnnxSessionOptions {
  /** The image size the model takes, [height, width] (or one number for square). */
  inputSize: number | [number, number];
  /** How images are preprocessed before the model (Keras `preprocess_input` mode). */
  preprocess: PreprocessMode;
  /** The output holding the features. @default the model's first output */
  featureOutput?: string;
}

/** An Extractor over a user's own .onnx model, with what it needs to be fed correctly. */
export interface ExternalOnnxExtractor extends Extractor {
  readonly preprocess: PreprocessMode;
  readonly inputLayout: 'NHWC' | 'NCHW';
  readonly inputName: string;
  readonly outputName: string;
}

const EXPECTED_INPUT = 'one float32 image input with 3 channels, [N, 3, H, W] (NCHW) or [N, H, W, 3] (NHWC)';

function checkOptions(options: ExternalOnnxOptions): [number, number] {
  if (!PREPROCESS_MODES.includes(options.preprocess)) {
    throw new InvalidArgumentError(`Unknown preprocess mode '${options.preprocess}': expected ${listValues(PREPROCESS_MODES)}.`);
  }
  const size: number[] = typeof options.inputSize === 'number' ? [options.inputSize, options.inputSize] : [...(options.inputSize ?? [])];
  if (size.length !== 2 || !size.every((d) => Number.isInteger(d) && d > 0)) {
    throw new InvalidArgumentError(`inputSize must be a positive integer or [height, width], got ${JSON.stringify(options.inputSize)}.`);
  }
  return [size[0], size[1]];
}

/** A dim fits when it is dynamic (a name or -1) or equal. */
const fits = (dim: number | string, size: number) => typeof dim !== 'number' || dim < 0 || dim === size;

/**
 * NCHW when channels (3) sit at axis 1 and H, W fit axes 2, 3; NHWC when they sit at axis 3.
 * A shape that reads both ways (e.g. [N, 3, 3, 3]) is taken as NCHW, the ONNX convention.
 */
function detectLayout(input: OnnxTensorInfo, [h, w]: [number, number], source: string): 'NHWC' | 'NCHW' {
  const s = input.shape;
  const got = `input '${input.name}' is ${input.type} [${s.join(', ')}]`;
  if (input.type !== 'float32' || s.length !== 4) throw new OnnxModelError(`${source}: expected ${EXPECTED_INPUT}; ${got}.`);
  if (s[1] === 3 && fits(s[2], h) && fits(s[3], w)) return 'NCHW';
  if (s[3] === 3 && fits(s[1], h) && fits(s[2], w)) return 'NHWC';
  const channelsKnown = s[1] === 3 || s[3] === 3;
  throw new OnnxModelError(
    channelsKnown
      ? `${source}: ${got}, which does not take ${h}×${w} images; pass the model's own size as inputSize.`
      : `${source}: expected ${EXPECTED_INPUT}; ${got}.`,
  );
}

/**
 * Opens a user's own .onnx image model as an extractor: batches arrive NHWC (preprocessed as
 * `preprocess` says) and are transposed when the model takes NCHW. Runs one zero image to learn the
 * feature shape (and to warm the session up).
 * @throws OnnxModelError when the model's input is not a 3-channel image of that size or the output is unknown.
 */
export async function loadExternalOnnx(path: string, options: ExternalOnnxOptions): Promise<ExternalOnnxExtractor> {
  const inputSize = checkOptions(options);
  const { intraOpThreads, sessions, executionProviders } = options;
  const model = await OnnxModel.create(path, { intraOpThreads, sessions, executionProviders });
  try {
    if (model.inputs.length !== 1) {
      throw new OnnxModelError(`${path}: expected ${EXPECTED_INPUT}; it has ${model.inputs.length} inputs (${listValues(model.inputs.map((i) => i.name))}).`);
    }
    const [input] = model.inputs;
    const inputLayout = detectLayout(input, inputSize, path);
    const outputNames = model.outputs.map((o) => o.name);
    const outputName = options.featureOutput ?? outputNames[0];
    if (!outputNames.includes(outputName)) {
      throw new InvalidArgumentError(`Unknown featureOutput '${outputName}' in ${path}: expected ${listValues(outputNames)}.`);
    }
    const fixedBatch = typeof input.shape[0] === 'number' && input.shape[0] > 0 ? input.shape[0] : undefined;
    const probe = fixedBatch ?? 1;
    const [h, w] = inputSize;
    const zeros = new Float32Array(probe * h * w * 3);
    const { shape } = await model.run(zeros, inputLayout === 'NCHW' ? [probe, 3, h, w] : [probe, h, w, 3], outputName);
    const extractor = new OnnxExtractor(model, { inputSize, outputShape: shape.slice(1), inputLayout, outputName, fixedBatch });
    return Object.assign(extractor, { preprocess: options.preprocess, inputLayout, inputName: input.name, outputName });
  } catch (error) {
    model.dispose();
    throw error;
  }
}
