import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { encodeNpy } from '../../features/format/npy.js';
import { encodeSafetensors } from '../../features/format/safetensors.js';
import { FeaturePipeline } from '../../features/pipeline.js';
import { modelOptions, parse } from '../args.js';
import type { Command } from '../io.js';
import { UsageError } from '../io.js';
import { ProgressBar } from '../progress.js';
import { calibrationImages, cutOption, oneOf, pipelineOptions } from './model-options.js';

const FORMATS = ['safetensors', 'npy'] as const;
const DTYPES = ['float32', 'float16'] as const;

export const featuresCommand: Command = {
  name: 'features',
  summary: 'extract feature vectors from images and write one tensor file per image (safetensors or npy)',
  usage:
    'headstart features <image…> --model <id> [--layer L | --pooling avg|max] --out <dir> ' +
    '[--format safetensors|npy] [--dtype float32|float16] [--json] [--engine onnx|tfjs|auto] [--precision fp32|int8 [--calibration <folder>]] [--interpolation …]',
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        ...modelOptions,
        layer: { type: 'string' },
        pooling: { type: 'string' },
        out: { type: 'string', short: 'o' },
        format: { type: 'string' },
        dtype: { type: 'string' },
      },
      { minPositionals: 1 },
    );
    if (!values.out) throw new UsageError('--out <dir> is required');
    const format = oneOf(values.format ?? 'safetensors', FORMATS, 'format');
    const dtype = oneOf(values.dtype ?? 'float32', DTYPES, 'dtype');
    const cut = cutOption(values);
    const outDir = resolve(values.out);
    await mkdir(outDir, { recursive: true });
    const pipeline = await FeaturePipeline.create({ ...pipelineOptions(values), cut, calibration: await calibrationImages(values.calibration) });
    try {
      if (values.verbose) io.err(`model ${pipeline.spec.id}, layer ${pipeline.namespace.layer}, engine ${pipeline.engine}, backend ${pipeline.backend}`);
      const progress = new ProgressBar(positionals.length, 'features', !values.json && process.stderr.isTTY === true);
      const names = outputNames(positionals, format);
      const written: Array<{ image: string; file?: string; shape?: number[]; error?: { code: string; message: string } }> = [];
      for (let i = 0; i < positionals.length; i += 32) {
        const paths = positionals.slice(i, i + 32);
        const results = await pipeline.extract(paths);
        for (const [j, result] of results.entries()) {
          progress.tick(result.ok);
          const image = paths[j]!;
          if (!result.ok) {
            written.push({ image, error: { code: result.error.code, message: result.error.message } });
            continue;
          }
          const file = join(outDir, names[i + j]!);
          const body =
            format === 'npy'
              ? encodeNpy(result.features, result.shape, dtype === 'float16' ? 'f2' : 'f4')
              : encodeSafetensors(
                  { features: { dtype: dtype === 'float16' ? 'F16' : 'F32', shape: result.shape, data: result.features } },
                  pipeline.metadata(resolve(image), dtype),
                );
          await writeFile(file, body);
          written.push({ image, file, shape: result.shape });
        }
      }
      progress.finish();
      if (values.json) io.out(JSON.stringify({ namespace: pipeline.namespace, files: written }, null, 2));
      else {
        for (const w of written) io.out(w.error ? `${w.image}: error: ${w.error.message}` : `${w.image} → ${w.file} [${w.shape!.join(', ')}]`);
      }
      return written.some((w) => w.error) ? 1 : 0;
    } finally {
      pipeline.dispose();
    }
  },
};


/** `photo.jpg` → `photo.safetensors`; a second `photo.*` from another folder becomes `photo-1.safetensors`. */
function outputNames(paths: string[], format: string): string[] {
  const seen = new Map<string, number>();
  return paths.map((p) => {
    const stem = basename(p, extname(p));
    const count = seen.get(stem) ?? 0;
    seen.set(stem, count + 1);
    return `${count === 0 ? stem : `${stem}-${count}`}.${format}`;
  });
}
