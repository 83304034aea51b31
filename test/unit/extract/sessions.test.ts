import { describe, expect, it } from 'vitest';
import { extractSessions } from '../../../functions/shared/pipeline.js';

describe('extractSessions (ONNX Runtime sessions of the extract function and the local ingest)', () => {
  it('gives the zoo models up to 30 M parameters two sessions on two cores or more, VGG one', () => {
    const on = (cores: number) => Object.fromEntries(['mobilenet_v2', 'densenet121', 'resnet50', 'inception_v3', 'vgg16', 'vgg19'].map((m) => [m, extractSessions(m, cores, {})]));
    expect(on(2)).toEqual({ mobilenet_v2: 2, densenet121: 2, resnet50: 2, inception_v3: 2, vgg16: 1, vgg19: 1 });
    expect(on(6)).toEqual(on(2));
    expect(Object.values(on(1))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('leaves the count to HEADSTART_SESSIONS when it is set', () => {
    expect(extractSessions('mobilenet_v2', 2, { HEADSTART_SESSIONS: '1' })).toBeUndefined();
    expect(extractSessions('vgg16', 2, { HEADSTART_SESSIONS: '3' })).toBeUndefined();
  });
});
