import { describe, expect, it } from 'vitest';
import { featureExtractor, summary } from '../../../src/zoo/index.js';
import { runModelSuite } from './model-suite.js';

/** `model.summary()` of keras.applications.VGG16() in tf.keras 2.9–2.11 (trailing spaces as Keras prints them). */
const KERAS_SUMMARY = `Model: "vgg16"
_________________________________________________________________
 Layer (type)                Output Shape              Param #   
=================================================================
 input_1 (InputLayer)        [(None, 224, 224, 3)]     0         
                                                                 
 block1_conv1 (Conv2D)       (None, 224, 224, 64)      1792      
                                                                 
 block1_conv2 (Conv2D)       (None, 224, 224, 64)      36928     
                                                                 
 block1_pool (MaxPooling2D)  (None, 112, 112, 64)      0         
                                                                 
 block2_conv1 (Conv2D)       (None, 112, 112, 128)     73856     
                                                                 
 block2_conv2 (Conv2D)       (None, 112, 112, 128)     147584    
                                                                 
 block2_pool (MaxPooling2D)  (None, 56, 56, 128)       0         
                                                                 
 block3_conv1 (Conv2D)       (None, 56, 56, 256)       295168    
                                                                 
 block3_conv2 (Conv2D)       (None, 56, 56, 256)       590080    
                                                                 
 block3_conv3 (Conv2D)       (None, 56, 56, 256)       590080    
                                                                 
 block3_pool (MaxPooling2D)  (None, 28, 28, 256)       0         
                                                                 
 block4_conv1 (Conv2D)       (None, 28, 28, 512)       1180160   
                                                                 
 block4_conv2 (Conv2D)       (None, 28, 28, 512)       2359808   
                                                                 
 block4_conv3 (Conv2D)       (None, 28, 28, 512)       2359808   
                                                                 
 block4_pool (MaxPooling2D)  (None, 14, 14, 512)       0         
                                                                 
 block5_conv1 (Conv2D)       (None, 14, 14, 512)       2359808   
                                                                 
 block5_conv2 (Conv2D)       (None, 14, 14, 512)       2359808   
                                                                 
 block5_conv3 (Conv2D)       (None, 14, 14, 512)       2359808   
                                                                 
 block5_pool (MaxPooling2D)  (None, 7, 7, 512)         0         
                                                                 
 flatten (Flatten)           (None, 25088)             0         
                                                                 
 fc1 (Dense)                 (None, 4096)              102764544 
                                                                 
 fc2 (Dense)                 (None, 4096)              16781312  
                                                                 
 predictions (Dense)         (None, 1000)              4097000   
=================================================================
Total params: 138,357,544
Trainable params: 138,357,544
Non-trainable params: 0
_________________________________________________________________`;

runModelSuite(
  {
    id: 'vgg16',
    name: 'vgg16',
    layers: { withTop: 23, noTop: 19 },
    params: {
      withTop: { total: 138_357_544, trainable: 138_357_544, nonTrainable: 0 },
      noTop: { total: 14_714_688, trainable: 14_714_688, nonTrainable: 0 },
    },
    head: ['input_1', 'block1_conv1', 'block1_conv2', 'block1_pool', 'block2_conv1', 'block2_conv2', 'block2_pool', 'block3_conv1'],
    tail: ['block5_conv2', 'block5_conv3', 'block5_pool', 'flatten', 'fc1', 'fc2', 'predictions'],
    shapes: {
      block1_conv2: [null, 224, 224, 64],
      block3_conv3: [null, 56, 56, 256],
      block4_pool: [null, 14, 14, 512],
      block5_pool: [null, 7, 7, 512],
      flatten: [null, 25088],
      fc1: [null, 4096],
    },
    pooling: { avg: 'global_average_pooling2d', max: 'global_max_pooling2d' },
    channels: 512,
    forward: { size: 32, output: [2, 1, 1, 512] },
  },
  (model) => {
    describe('summary', () => {
      it("prints Keras 2's model.summary() table for a chain of layers", () => {
        expect(summary(model())).toBe(KERAS_SUMMARY);
      });

      it('has the header, rows and totals that users grep for', () => {
        const lines = summary(model()).split('\n');
        expect(lines[0]).toBe('Model: "vgg16"');
        expect(lines[2]!.trimEnd()).toBe(' Layer (type)                Output Shape              Param #');
        expect(lines).toContain(' fc1 (Dense)                 (None, 4096)              102764544 ');
        expect(lines).toContain('Total params: 138,357,544');
        expect(lines).not.toContain(expect.stringContaining('Connected to'));
      });
    });

    describe('featureExtractor at fc2', () => {
      it('outputs the 4,096 fc2 activations and shares the weights (no copy)', () => {
        const fc2 = featureExtractor(model(), { layer: 'fc2' });
        expect(fc2.outputs[0]!.shape).toEqual([null, 4096]);
        expect(fc2.layers.map((l) => l.name)).toEqual(model().layers.slice(0, -1).map((l) => l.name));
        expect(fc2.getLayer('fc1')).toBe(model().getLayer('fc1'));
        expect(fc2.getLayer('fc1').weights[0]).toBe(model().getLayer('fc1').weights[0]);
        expect(fc2.countParams()).toBe(138_357_544 - 4_097_000);
      });
    });
  },
);
