import { decodePredictions } from '../../classify/decode.js';
import { FeaturePipeline } from '../../features/pipeline.js';
import { intOption, modelOptions, parse } from '../args.js';
import type { Command } from '../io.js';
import { ProgressBar } from '../progress.js';
import { calibrationImages, pipelineOptions } from './model-options.js';

export const classifyCommand: Command = {
  name: 'classify',
  summary: 'classify images with a pretrained ImageNet model (top-k labels, Keras decode_predictions)',
  usage:
    'headstart classify <image…> --model <id> [--top 5] [--json] [--interpolation nearest|bilinear|bicubic|lanczos] ' +
    '[--engine onnx|tfjs|auto] [--precision fp32|int8 [--calibration <folder>]] [--backend tensorflow|wasm|cpu] [--batch 8] [--verbose]',
  async run(args, io) {
    const { values, positionals } = parse(args, { ...modelOptions, top: { type: 'string' } }, { minPositionals: 1 });
    const top = intOption(values.top, 'top', 5);
    const pipeline = await FeaturePipeline.create({ ...pipelineOptions(values), cut: 'classifier', calibration: await calibrationImages(values.calibration) });
    try {
      if (values.verbose) io.err(`model ${pipeline.spec.id}, engine ${pipeline.engine}, backend ${pipeline.backend}`);
      const progress = new ProgressBar(positionals.length, 'classify', !values.json && process.stderr.isTTY === true);
      const report: Array<{ image: string; predictions?: Array<{ label: string; score: number; classIndex: number }>; error?: { code: string; message: string } }> = [];
      for (let i = 0; i < positionals.length; i += 8) {
        const paths = positionals.slice(i, i + 8);
        const results = await pipeline.extract(paths);
        results.forEach((result, j) => {
          progress.tick(result.ok);
          if (!result.ok) {
            report.push({ image: paths[j]!, error: { code: result.error.code, message: result.error.message } });
            return;
          }
          const [predictions] = decodePredictions([result.features], top);
          report.push({ image: paths[j]!, predictions: predictions!.map(({ label, score, classIndex }) => ({ label, score, classIndex })) });
        });
      }
      progress.finish();
      if (values.json) io.out(JSON.stringify(report, null, 2));
      else for (const entry of report) printEntry(entry, io.out);
      return report.some((e) => e.error) ? 1 : 0;
    } finally {
      pipeline.dispose();
    }
  },
};

function printEntry(
  entry: { image: string; predictions?: Array<{ label: string; score: number }>; error?: { message: string } },
  out: (line: string) => void,
): void {
  out(entry.image);
  if (entry.error) {
    out(`  error: ${entry.error.message}`);
    return;
  }
  entry.predictions!.forEach((p, rank) => out(`  ${rank + 1}. ${p.label.padEnd(40)} ${p.score.toFixed(4)}`));
}
