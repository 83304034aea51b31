import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { mapLimit } from '../../util/concurrency.js';
import { datasetPrefix, safePath, UNLABELLED, validateDatasetName } from '../../layout.js';
import { createS3Client, S3Store } from '../../store/index.js';
import { intOption, parse } from '../args.js';
import type { Command } from '../io.js';
import { UsageError } from '../io.js';
import { ProgressBar } from '../progress.js';

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif',
};

/** Every file under `dir`, skipping hidden files and folders, as paths relative to it with '/' separators. */
async function walk(dir: string): Promise<string[]> {
  const files: string[] = [];
  const visit = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(current, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile()) files.push(relative(dir, full).split(sep).join('/'));
    }
  };
  await visit(dir);
  return files.sort();
}

export const uploadCommand: Command = {
  name: 'upload',
  summary: 'upload a class-folder tree (<dir>/<label>/<image>) to images/<dataset>/ in the bucket',
  usage: 'headstart upload <dir> --dataset <name> [--endpoint URL] [--bucket headstart] [--concurrency 8] [--json]',
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      { dataset: { type: 'string', short: 'd' }, endpoint: { type: 'string' }, bucket: { type: 'string' }, concurrency: { type: 'string' }, json: { type: 'boolean' } },
      { minPositionals: 1 },
    );
    if (!values.dataset) throw new UsageError('--dataset <name> is required');
    const dataset = validateDatasetName(values.dataset);
    const dir = positionals[0]!;
    const endpoint = values.endpoint ?? process.env.HEADSTART_S3_ENDPOINT ?? 'http://127.0.0.1:4569';
    const bucket = values.bucket ?? process.env.HEADSTART_BUCKET ?? 'headstart';
    const store = new S3Store(createS3Client({ endpoint: endpoint === 'aws' ? undefined : endpoint }), bucket);
    const files = await walk(dir);
    if (files.length === 0) throw new UsageError(`'${dir}' holds no files: expected <dir>/<label>/<image>`);
    const progress = new ProgressBar(files.length, 'upload', !values.json && process.stderr.isTTY === true);
    const started = Date.now();
    const keys = await mapLimit(files, intOption(values.concurrency, 'concurrency', 8), async (file) => {
      const key = `${datasetPrefix(dataset)}${safePath(file.includes('/') ? file : `${UNLABELLED}/${file}`, 'file name')}`;
      await store.put(key, await readFile(join(dir, file)), { contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' });
      progress.tick();
      return key;
    });
    progress.finish();
    const labels = [...new Set(keys.map((k) => k.split('/')[2]!))];
    const seconds = (Date.now() - started) / 1000;
    if (values.json) io.out(JSON.stringify({ bucket, endpoint, dataset, uploaded: keys.length, labels, seconds }));
    else io.out(`uploaded ${keys.length} files to s3://${bucket}/images/${dataset}/ (${labels.length} labels: ${labels.join(', ')}) in ${seconds.toFixed(1)} s`);
    return 0;
  },
};
