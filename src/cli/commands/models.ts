import { initBackend } from '../../engine/backend.js';
import { int8Note, MEASURED_INT8 } from '../../engine/onnx/quantize/measured.js';
import { listCachedWeights } from '../../weights/index.js';
import { getModelSpec } from '../../zoo/index.js';
import { MODEL_IDS } from '../../zoo/types.js';
import { parse } from '../args.js';
import type { Command } from '../io.js';

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list the model zoo: input size, preprocessing, feature layers, and whether weights are cached',
  usage: 'headstart models [--json] [--backend tensorflow|wasm|cpu]',
  async run(args, io) {
    const { values } = parse(args, { json: { type: 'boolean' }, backend: { type: 'string' } });
    const backend = await initBackend(values.backend);
    const cached = await listCachedWeights();
    const rows = MODEL_IDS.map((id) => {
      const spec = getModelSpec(id);
      const weights = cached.filter((c) => c.modelId === id);
      return {
        id,
        keras: spec.displayName,
        inputSize: spec.inputSize,
        preprocess: spec.preprocess,
        params: spec.paramsWithTop,
        defaultFeatureLayer: `${spec.defaultFeatureLayer} (${spec.defaultFeatureDim})`,
        featureLayers: Object.entries(spec.featureLayers).map(([name, dim]) => `${name} (${dim})`),
        weights: weights.map((w) => `${w.variant}@${w.index.digest}`),
        // fp32 for every model: int8 is opt-in (--precision int8), a feature namespace of its own.
        defaultPrecision: 'fp32' as const,
        int8: { note: int8Note(id), measured: MEASURED_INT8.models[id] ?? null },
      };
    });
    if (values.json) {
      const { models: _models, ...int8Source } = MEASURED_INT8;
      io.out(JSON.stringify({ backend, models: rows, int8Measured: int8Source }, null, 2));
      return 0;
    }
    io.out(`backend: ${backend}`);
    const header = ['model', 'keras', 'input', 'preprocess', 'params', 'default features', 'weights cached', 'int8 vs fp32 (measured)'];
    const table = rows.map((r) => [
      r.id,
      r.keras,
      `${r.inputSize}x${r.inputSize}`,
      r.preprocess,
      r.params.toLocaleString('en-US'),
      r.defaultFeatureLayer,
      r.weights.length ? r.weights.join(', ') : 'no (headstart weights pull|import)',
      r.int8.note,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    io.out(line(header));
    for (const row of table) io.out(line(row));
    io.out('');
    for (const r of rows) io.out(`${r.id} feature layers: ${r.featureLayers.join(', ')}`);
    io.out('');
    io.out(
      'Precision: fp32 is every model\'s default; --precision int8 is opt-in. The int8 column is fp32 ms/image over int8 ms/image ' +
        `(above 1×: int8 faster) as measured by \`${MEASURED_INT8.command}\` on ${MEASURED_INT8.machine}, ${MEASURED_INT8.date} ` +
        '(docs/benchmarks.md); another CPU can differ.',
    );
    return 0;
  },
};
