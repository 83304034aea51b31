import { initBackend } from '../../engine/backend.js';
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
      };
    });
    if (values.json) {
      io.out(JSON.stringify({ backend, models: rows }, null, 2));
      return 0;
    }
    io.out(`backend: ${backend}`);
    const header = ['model', 'keras', 'input', 'preprocess', 'params', 'default features', 'weights cached'];
    const table = rows.map((r) => [
      r.id,
      r.keras,
      `${r.inputSize}x${r.inputSize}`,
      r.preprocess,
      r.params.toLocaleString('en-US'),
      r.defaultFeatureLayer,
      r.weights.length ? r.weights.join(', ') : 'no (headstart weights pull|import)',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    io.out(line(header));
    for (const row of table) io.out(line(row));
    io.out('');
    for (const r of rows) io.out(`${r.id} feature layers: ${r.featureLayers.join(', ')}`);
    return 0;
  },
};
