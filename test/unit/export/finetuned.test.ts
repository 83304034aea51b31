import * as ort from 'onnxruntime-node';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/engine/backend.js';
import { exportModel, type ParityFile } from '../../../src/export/index.js';
import { publishFinetuned } from '../../../src/finetune/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { expectNoLeak } from '../../helpers/tf.js';
import { finetunedDraft as draft } from './fixtures.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('exportModel on a published fine-tuned model', () => {
  it('merges preprocessing in front of the registry model: its labels, its input size, ONNX Runtime gives parity.json', async () => {
    const store = new MemoryStore();
    const model = draft('pets-ft');
    await publishFinetuned(store, model);
    model.model.dispose();

    const bundle = await expectNoLeak(() => exportModel(store, 'pets-ft', 'onnx'));
    const files = unzipSync(bundle.zip);
    expect(JSON.parse(new TextDecoder().decode(files['labels.json']!))).toEqual(['cat', 'dog']);
    const readme = new TextDecoder().decode(files['README.md']!);
    expect(readme).toContain("fine-tuned model 'pets-ft' (densenet121)");
    expect(readme).toContain('densenet121@fedcba9876543210');
    const parity = JSON.parse(new TextDecoder().decode(files['parity.json']!)) as ParityFile;
    expect(parity.input.shape).toEqual([3, 6, 6, 3]);

    const session = await ort.InferenceSession.create(files['model.onnx']!);
    const pixels = Uint8Array.from(Buffer.concat(parity.cases.map((c) => Buffer.from(c.pixels, 'base64'))));
    const { probabilities } = await session.run({ image: new ort.Tensor('uint8', pixels, parity.input.shape) });
    const got = probabilities!.data as Float32Array;
    parity.cases.forEach((c, i) => c.probabilities.forEach((p, j) => expect(Math.abs(got[i * 2 + j]! - p)).toBeLessThan(parity.tolerance)));
    await session.release();
  });
});
