import { buildModel, getModelSpec, summary } from '../../zoo/index.js';
import { initBackend } from '../../engine/backend.js';
import type { Pooling } from '../../zoo/types.js';
import { parse } from '../args.js';
import type { Command } from '../io.js';
import { UsageError } from '../io.js';

export const summaryCommand: Command = {
  name: 'summary',
  summary: 'print a zoo model\'s layers, output shapes and parameter counts, as Keras model.summary()',
  usage: 'headstart summary <model> [--no-top] [--pooling avg|max] [--input-shape H,W,3] [--classes N]',
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        'no-top': { type: 'boolean' },
        pooling: { type: 'string' },
        'input-shape': { type: 'string' },
        classes: { type: 'string' },
        backend: { type: 'string' },
      },
      { minPositionals: 1 },
    );
    const spec = getModelSpec(positionals[0]!);
    await initBackend(values.backend);
    const inputShape = values['input-shape']?.split(',').map((v) => (v === 'None' || v === '' ? null : Number(v)));
    if (inputShape && (inputShape.length !== 3 || inputShape.some((v) => v !== null && !Number.isInteger(v)))) {
      throw new UsageError(`--input-shape must be H,W,C (e.g. 224,224,3), got '${values['input-shape']}'`);
    }
    const model = buildModel(spec.id, {
      includeTop: !values['no-top'],
      pooling: (values.pooling as Pooling | undefined) ?? null,
      inputShape: inputShape as [number | null, number | null, number] | undefined,
      classes: values.classes === undefined ? undefined : Number(values.classes),
    });
    try {
      io.out(summary(model));
    } finally {
      model.dispose();
    }
    return 0;
  },
};
