import { runModelSuite } from './model-suite.js';

runModelSuite({
  id: 'vgg19',
  name: 'vgg19',
  layers: { withTop: 26, noTop: 22 },
  params: {
    withTop: { total: 143_667_240, trainable: 143_667_240, nonTrainable: 0 },
    noTop: { total: 20_024_384, trainable: 20_024_384, nonTrainable: 0 },
  },
  head: ['input_1', 'block1_conv1', 'block1_conv2', 'block1_pool', 'block2_conv1', 'block2_conv2', 'block2_pool', 'block3_conv1', 'block3_conv2', 'block3_conv3', 'block3_conv4', 'block3_pool'],
  tail: ['block5_conv3', 'block5_conv4', 'block5_pool', 'flatten', 'fc1', 'fc2', 'predictions'],
  shapes: {
    block3_conv4: [null, 56, 56, 256],
    block4_conv4: [null, 28, 28, 512],
    block5_pool: [null, 7, 7, 512],
    flatten: [null, 25088],
    fc2: [null, 4096],
  },
  pooling: { avg: 'global_average_pooling2d', max: 'global_max_pooling2d' },
  channels: 512,
  forward: { size: 32, output: [2, 1, 1, 512] },
});
