import { describe, expect, it } from 'vitest';
import { exportCommand } from '../../../src/cli/commands/export.js';

const io = { out: () => undefined, err: () => undefined };

describe('headstart export', () => {
  it('refuses a missing or unknown --format, listing the formats', async () => {
    await expect(exportCommand.run(['densenet121'], io)).rejects.toThrow("'format' is required: 'onnx' or 'tfjs'.");
    await expect(exportCommand.run(['densenet121', '--format', 'tflite'], io)).rejects.toThrow("Unknown export format 'tflite'");
  });

  it('asks for --store when the id is no zoo model (heads and fine-tuned models live in a bucket)', async () => {
    const saved = process.env.HEADSTART_STORE;
    delete process.env.HEADSTART_STORE;
    try {
      await expect(exportCommand.run(['pets-head', '--format', 'onnx'], io)).rejects.toMatchObject({ code: 'Usage', message: expect.stringContaining('--store s3://<bucket>') });
    } finally {
      if (saved !== undefined) process.env.HEADSTART_STORE = saved;
    }
  });
});
