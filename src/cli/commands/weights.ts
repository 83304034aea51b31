import { initBackend } from '../../engine/backend.js';
import { createS3Client, S3Store } from '../../store/index.js';
import { pushWeightsToStore } from '../../weights/bucket.js';
import { assertModelId, headstartHome, importWeights, listCachedWeights, pullWeights, type CachedWeights } from '../../weights/index.js';
import { parse } from '../args.js';
import type { CliIo, Command } from '../io.js';
import { UsageError } from '../io.js';

const USAGE =
  'headstart weights pull <model> [--no-top] [--base-url URL]\n' +
  '       headstart weights import <file.h5 | tfjs-folder> --model <id> [--top | --no-top]\n' +
  '       headstart weights push <model> [--no-top] [--bucket headstart] [--endpoint URL | aws]\n' +
  '       headstart weights list [--json]';

function describe(entry: CachedWeights): string {
  const { index } = entry;
  return `${entry.modelId} (${entry.variant}) digest ${index.digest}, ${index.params.toLocaleString('en-US')} params, from ${index.source.fileName} → ${entry.dir}`;
}

async function pull(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { 'no-top': { type: 'boolean' }, 'base-url': { type: 'string' } }, { minPositionals: 1 });
  const entry = await pullWeights(positionals[0]!, { includeTop: !values['no-top'], baseUrl: values['base-url'] });
  io.out(describe(entry));
  return 0;
}

async function importCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { model: { type: 'string', short: 'm' }, top: { type: 'boolean' }, 'no-top': { type: 'boolean' } },
    { minPositionals: 1 },
  );
  if (!values.model) throw new UsageError('--model <id> is required: which zoo model the weights are for');
  if (values.top && values['no-top']) throw new UsageError('give --top or --no-top, not both');
  const includeTop = values.top ? true : values['no-top'] ? false : undefined;
  const entry = await importWeights(positionals[0]!, { model: values.model, includeTop });
  io.out(`imported ${describe(entry)}`);
  return 0;
}

/** Uploads a cached entry to the bucket's weights/<model>/<variant>/, where the functions sync it from. */
async function push(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { 'no-top': { type: 'boolean' }, bucket: { type: 'string' }, endpoint: { type: 'string' } }, { minPositionals: 1 });
  const model = positionals[0]!;
  assertModelId(model);
  const endpoint = values.endpoint ?? process.env.HEADSTART_S3_ENDPOINT ?? 'http://127.0.0.1:4569';
  const bucket = values.bucket ?? process.env.HEADSTART_BUCKET ?? 'headstart';
  const store = new S3Store(createS3Client({ endpoint: endpoint === 'aws' ? undefined : endpoint }), bucket);
  const keys = await pushWeightsToStore(store, model, values['no-top'] ? 'notop' : 'top');
  io.out(`pushed ${keys.map((k) => `s3://${bucket}/${k}`).join(', ')}`);
  return 0;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } });
  const entries = await listCachedWeights();
  if (values.json) {
    io.out(JSON.stringify(entries.map((e) => ({ ...e.index, dir: e.dir })), null, 2));
    return 0;
  }
  if (entries.length === 0) io.out(`no weights cached under ${headstartHome()} — run 'headstart weights pull <model>' or 'headstart weights import <file> --model <id>'`);
  for (const entry of entries) io.out(describe(entry));
  return 0;
}

export const weightsCommand: Command = {
  name: 'weights',
  summary: 'download (pull), import, push to the bucket or list pretrained weights in the cache ($HEADSTART_HOME, default ~/.cache/headstart)',
  usage: USAGE,
  async run(args, io) {
    const [verb, ...rest] = args;
    // Importing checks the weights against a built model: pick the backend first (no fallback warning).
    await initBackend();
    switch (verb) {
      case 'pull':
        return pull(rest, io);
      case 'import':
        return importCommand(rest, io);
      case 'push':
        return push(rest, io);
      case 'list':
        return list(rest, io);
      default:
        throw new UsageError(`unknown weights command '${verb ?? ''}': expected 'pull', 'import', 'push' or 'list'`);
    }
  },
};
