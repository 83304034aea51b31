import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxModelError } from '../../../src/engine/onnx/errors.js';
import { OnnxModel } from '../../../src/engine/onnx/session.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { tinyOnnx } from './helpers.js';

describe('OnnxModel', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'headstart-onnx-session-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads from bytes and runs the first output by default', async () => {
    const model = await OnnxModel.create(tinyOnnx(['N', 2, 3]));
    const input = Float32Array.from({ length: 12 }, (_, i) => i);
    const { data, shape } = await model.run(input, [2, 2, 3]);
    expect(shape).toEqual([2, 2, 3]);
    expect(Array.from(data)).toEqual(Array.from(input, (v) => v * 2));
    model.dispose();
  });

  it('loads from a path, reports its inputs/outputs and runs a named output', async () => {
    const path = join(dir, 'tiny.onnx');
    await writeFile(path, tinyOnnx(['batch', 2, 3]));
    const model = await OnnxModel.create(path, { intraOpThreads: 1, executionProviders: ['cpu'] });
    expect(model.source).toBe(path);
    expect(model.inputs).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 2, 3] }]);
    expect(model.outputs.map((o) => o.name)).toEqual(['double', 'flat']);
    const { data, shape } = await model.run(new Float32Array(6).fill(1), [1, 2, 3], 'flat');
    expect(shape).toEqual([1, 6]);
    expect(Array.from(data)).toEqual([1, 1, 1, 1, 1, 1]);
    model.dispose();
  });

  it('runs the same with and without intra-op spin-waiting (off unless asked for)', async () => {
    const input = Float32Array.from({ length: 6 }, (_, i) => i - 2);
    const outputs: number[][] = [];
    for (const spinWait of [false, true]) {
      const model = await OnnxModel.create(tinyOnnx(['N', 2, 3]), { intraOpThreads: 2, spinWait });
      outputs.push(Array.from((await model.run(input, [1, 2, 3])).data));
      model.dispose();
    }
    expect(outputs).toEqual([Array.from(input, (v) => v * 2), Array.from(input, (v) => v * 2)]);
  });

  it('with several sessions, answers runs in flight together, each with its own result', async () => {
    const model = await OnnxModel.create(tinyOnnx(['N', 2, 3]), { sessions: 3 });
    try {
      expect(model.sessions).toBe(3);
      const inputs = Array.from({ length: 7 }, (_, k) => Float32Array.from({ length: 6 * (k + 1) }, (_, i) => i + 100 * k));
      const outputs = await Promise.all(inputs.map((input, k) => model.run(input, [k + 1, 2, 3])));
      outputs.forEach(({ data, shape }, k) => {
        expect(shape).toEqual([k + 1, 2, 3]);
        expect(Array.from(data)).toEqual(Array.from(inputs[k]!, (v) => v * 2));
      });
    } finally {
      model.dispose();
    }
    await expect(model.run(new Float32Array(6), [1, 2, 3])).rejects.toThrow(InvalidArgumentError);
  });

  it.each([0, -1, 1.5])('refuses sessions: %j', async (sessions) => {
    await expect(OnnxModel.create(tinyOnnx(['N', 2, 3]), { sessions })).rejects.toThrow(new InvalidArgumentError(`sessions must be a positive integer, got ${sessions}.`));
  });

  describe('rejects bad input with what was expected', () => {
    let model: OnnxModel;
    beforeAll(async () => {
      model = await OnnxModel.create(tinyOnnx(['N', 2, 3]));
    });
    afterAll(() => model.dispose());

    it('data that does not fill the shape', async () => {
      await expect(model.run(new Float32Array(5), [1, 2, 3])).rejects.toThrow(
        new InvalidArgumentError('Input shape [1, 2, 3] does not match 5 values.'),
      );
    });

    it('a shape that does not fit the model input', async () => {
      await expect(model.run(new Float32Array(6), [1, 3, 2])).rejects.toThrow(
        "Input shape [1, 3, 2] does not fit input 'x' of <",
      );
      await expect(model.run(new Float32Array(6), [6])).rejects.toThrow('expected [N, 2, 3]');
    });

    it('an unknown output, listing the outputs', async () => {
      await expect(model.run(new Float32Array(6), [1, 2, 3], 'logits')).rejects.toThrow(
        "Unknown output 'logits': expected 'double' or 'flat'.",
      );
    });
  });

  it('refuses to run once disposed (and disposing twice is harmless)', async () => {
    const model = await OnnxModel.create(tinyOnnx(['N', 2]));
    model.dispose();
    model.dispose();
    await expect(model.run(new Float32Array(2), [1, 2])).rejects.toThrow(/was disposed/);
  });

  it('says which file is missing', async () => {
    const path = join(dir, 'missing.onnx');
    await expect(OnnxModel.create(path)).rejects.toThrow(new InvalidArgumentError(`ONNX model file not found: ${path}`));
  });

  it('wraps what ONNX Runtime says about bytes that are not a model', async () => {
    const error = await OnnxModel.create(new TextEncoder().encode('not an onnx model')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxModelError);
    expect((error as OnnxModelError).code).toBe('InvalidModel');
    expect((error as OnnxModelError).message).toMatch(/^ONNX Runtime could not load the model <17 bytes>: /);
    expect((error as OnnxModelError).cause).toBeInstanceOf(Error);
  });

  it.each([0, -1, 1.5])('rejects intraOpThreads %s', async (threads) => {
    await expect(OnnxModel.create(tinyOnnx(['N', 2]), { intraOpThreads: threads })).rejects.toThrow(
      `intraOpThreads must be a positive integer, got ${threads}.`,
    );
  });

  it('rejects an unknown execution provider with the known ones', async () => {
    await expect(OnnxModel.create(tinyOnnx(['N', 2]), { executionProviders: ['tpu', 'cpu'] })).rejects.toThrow(
      /^Unknown execution provider\(s\) 'tpu': expected 'cpu', .*'cuda'/,
    );
  });
});
