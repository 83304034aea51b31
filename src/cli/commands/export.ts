import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '../../engine/backend.js';
import { exportModel, parseExportFormat } from '../../export/index.js';
import { headstartHome } from '../../weights/index.js';
import { parse } from '../args.js';
import { UsageError, type Command } from '../io.js';
import { MODEL_IDS } from '../../zoo/types.js';
import { openStoreSource } from '../store-source.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a head, a fine-tuned model or a zoo classifier as one ONNX or TF.js graph (pixels in, probabilities out) in a zip bundle',
  usage: 'headstart export <id> --format onnx|tfjs [--out .] [--store s3://bucket | dir] [--endpoint URL] [--backend tensorflow|wasm|cpu]',
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      { format: { type: 'string' }, out: { type: 'string' }, store: { type: 'string' }, endpoint: { type: 'string' }, backend: { type: 'string' } },
      { minPositionals: 1 },
    );
    const format = parseExportFormat(values.format);
    await initBackend(values.backend);
    // A zoo classifier needs no store; a head or fine-tuned model is read from the bucket (or folder) it was published to.
    const where = values.store ?? process.env.HEADSTART_STORE;
    const id = positionals[0]!;
    if (where === undefined && !(MODEL_IDS as readonly string[]).includes(id)) {
      throw new UsageError(`'${id}' is no zoo model: a head or fine-tuned model is read from the bucket it was published to, --store s3://<bucket> | <dir> (or HEADSTART_STORE).`);
    }
    const store = where === undefined ? undefined : (await openStoreSource(where, values.endpoint)).store;
    const started = performance.now();
    const bundle = await exportModel(store, id, format, { home: headstartHome() });
    const out = values.out ?? '.';
    await mkdir(out, { recursive: true });
    const path = join(out, bundle.fileName);
    await writeFile(path, bundle.zip);
    io.out(`${path}  ${(bundle.zip.length / 1e6).toFixed(1)} MB  (${Object.keys(bundle.files).join(', ')})`);
    io.err(`exported in ${((performance.now() - started) / 1000).toFixed(1)} s; the graph matches headstart within ${bundle.parity.maxAbsDifference.toExponential(1)} on parity.json's inputs`);
    return 0;
  },
};
