import { describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../../functions/api/http-handler.js';
import { exportRoutes } from '../../../functions/api/routes/export.js';
import { MemoryStore } from '../../../src/store/index.js';
import { apiEvent, lambdaContext, parseResult } from '../../helpers/events.js';

/** The edge of GET /models/{id}/export; the bundles themselves: test/unit/export, test/integration/export-densenet.test.ts. */
describe('GET /models/{id}/export', () => {
  const handler = createHttpHandler(async () => exportRoutes({ store: new MemoryStore() }));
  const get = async (id: string, query: Record<string, string>) => parseResult(await handler(apiEvent('GET', `/models/${id}/export`, { query }), lambdaContext()));

  it('400 without a format or with an unknown one, listing the formats (before any model is loaded)', async () => {
    const missing = await get('densenet121', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({ code: 'InvalidArgument', message: "'format' is required: 'onnx' or 'tfjs'." });
    const unknown = await get('densenet121', { format: 'coreml' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe("Unknown export format 'coreml': expected 'onnx' or 'tfjs'.");
  });

  it('404 ModelNotFound for an id that is no head, no fine-tuned model and no zoo model, naming what would do', async () => {
    const result = await get('no-such-model', { format: 'onnx' });
    expect(result.status).toBe(404);
    expect(result.body.error.code).toBe('ModelNotFound');
    expect(result.body.error.message).toContain("Nothing to export under 'no-such-model'");
    expect(result.body.error.message).toContain("'densenet121'");
  });
});
