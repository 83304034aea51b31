/**
 * The checks every zoo model gets, run from one test file per model (so the big models build in
 * parallel workers): parameter counts with the top, without it, with avg and max pooling; layer names
 * and order at both ends; output shapes; the spec's feature layers; one small forward pass; no leaks.
 * Each variant is built once per describe and disposed after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { buildModel, countParams, getModelSpec, type ModelId, type ParamCounts } from '../../../src/zoo/index.js';
import { expectNoLeak } from '../../helpers/tf.js';

export interface ModelExpectation {
  id: ModelId;
  /** Keras' model name with the default input, with and without the top. */
  name: string;
  noTopName?: string;
  layers: { withTop: number; noTop: number };
  params: { withTop: ParamCounts; noTop: ParamCounts };
  /** The first and last layer names with the top, in Keras' order. */
  head: string[];
  tail: string[];
  /** Some layers and their output shapes with the top, at the default input size. */
  shapes: Record<string, (number | null)[]>;
  /** Names Keras gives the no-top global pooling layers. */
  pooling: { avg: string; max: string };
  /** Channels of the last feature map. */
  channels: number;
  /** Small input for the forward pass, and the no-top output it gives. */
  forward: { size: number; output: number[] };
}

/** Builds `id` with `options` for the tests of one describe block; the model is disposed after it. */
function useModel(id: ModelId, options: Parameters<typeof buildModel>[1]): () => tf.LayersModel {
  let model: tf.LayersModel | undefined;
  beforeAll(async () => {
    await initBackend();
    model = buildModel(id, options);
  });
  afterAll(() => {
    model?.dispose();
  });
  return () => model!;
}

const names = (model: tf.LayersModel) => model.layers.map((l) => l.name);

/**
 * Registers the shared checks. `withTop` runs inside the with-top describe block and gets the built
 * model, so a model file can add checks without building the big model a second time.
 */
export function runModelSuite(e: ModelExpectation, withTop?: (model: () => tf.LayersModel) => void): void {
  const spec = getModelSpec(e.id);

  describe(`${spec.displayName} with the top`, () => {
    const model = useModel(e.id, {});

    it('has Keras parameter counts (BatchNorm moving statistics non-trainable)', () => {
      expect(countParams(model())).toEqual(e.params.withTop);
      expect(countParams(model()).total).toBe(spec.paramsWithTop);
      expect(model().countParams()).toBe(spec.paramsWithTop);
    });

    it("has Keras' model name, layer count and layer order at both ends", () => {
      expect(model().name).toBe(e.name);
      expect(model().layers).toHaveLength(e.layers.withTop);
      expect(names(model()).slice(0, e.head.length)).toEqual(e.head);
      expect(names(model()).slice(-e.tail.length)).toEqual(e.tail);
    });

    it('gives every layer a unique name and outputs the 1,000 class probabilities', () => {
      expect(new Set(names(model())).size).toBe(e.layers.withTop);
      expect(model().inputs[0]!.shape).toEqual([null, spec.inputSize, spec.inputSize, 3]);
      expect(model().outputs[0]!.shape).toEqual([null, 1000]);
      expect(model().getLayer('predictions').getConfig().activation).toBe('softmax');
    });

    it('has the output shapes of Keras at named layers', () => {
      for (const [layer, shape] of Object.entries(e.shapes)) {
        expect(model().getLayer(layer).outputShape, layer).toEqual(shape);
      }
    });

    it("has the spec's feature layers with the widths it states", () => {
      expect(spec.featureLayers[spec.defaultFeatureLayer]).toBe(spec.defaultFeatureDim);
      for (const [layer, width] of Object.entries(spec.featureLayers)) {
        const shape = model().getLayer(layer).outputShape as number[];
        expect(shape[shape.length - 1], layer).toBe(width);
      }
    });

    withTop?.(model);
  });

  describe(`${spec.displayName} without the top`, () => {
    const model = useModel(e.id, { includeTop: false });

    it('has the Keras no-top parameter counts and ends at the last feature map', () => {
      expect(countParams(model())).toEqual(e.params.noTop);
      expect(model().name).toBe(e.noTopName ?? e.name);
      expect(model().layers).toHaveLength(e.layers.noTop);
      expect(names(model()).slice(0, e.head.length)).toEqual(e.head);
      expect(model().inputs[0]!.shape).toEqual([null, null, null, 3]);
      expect(model().outputs[0]!.shape).toEqual([null, null, null, e.channels]);
    });

    it('runs a forward pass on a small batch at a small input size', async () => {
      const { size, output } = e.forward;
      const y = tf.tidy(() => model().predict(tf.randomUniform([2, size, size, 3], 0, 1)) as tf.Tensor);
      try {
        expect(y.shape).toEqual(output);
        expect((await y.data()).every(Number.isFinite)).toBe(true);
      } finally {
        y.dispose();
      }
    });
  });

  for (const pooling of ['avg', 'max'] as const) {
    describe(`${spec.displayName} with pooling '${pooling}'`, () => {
      const model = useModel(e.id, { includeTop: false, pooling, inputShape: [spec.inputSize, spec.inputSize, 3] });

      it(`ends in Keras' ${pooling} pooling layer with the no-top parameter counts`, () => {
        expect(countParams(model())).toEqual(e.params.noTop);
        expect(model().layers).toHaveLength(e.layers.noTop + 1);
        const last = model().layers[model().layers.length - 1]!;
        expect(last.name).toBe(e.pooling[pooling]);
        expect(last.getClassName()).toBe(pooling === 'avg' ? 'GlobalAveragePooling2D' : 'GlobalMaxPooling2D');
        expect(model().outputs[0]!.shape).toEqual([null, e.channels]);
      });
    });
  }

  it(`${spec.displayName}: building and disposing leaves no tensor behind`, async () => {
    await initBackend();
    await expectNoLeak(() => {
      const model = buildModel(e.id, { includeTop: false, pooling: 'avg' });
      expect(model.dispose().numDisposedVariables).toBe(model.weights.length);
    });
  });
}
