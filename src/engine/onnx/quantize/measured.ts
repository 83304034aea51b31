import type { ModelId } from '../../../zoo/types.js';

/**
 * int8 against fp32 as measured here, per zoo model: what `headstart models` says about precision 'int8'.
 * Numbers, not a guess: copied from the zoo table of docs/benchmarks.md ("int8 in the zoo table"), made by
 * MEASURED_INT8.command on MEASURED_INT8.machine. Another CPU (no VNNI, other core counts) can differ either way;
 * rerun the command there. The default precision stays fp32 for every model: int8 is opt-in (it is a feature
 * namespace of its own), and where it measured slower `headstart models` says so.
 */
export interface Int8Measurement {
  /** fp32 ms/image over int8 ms/image (above 1: int8 is faster), at batch 1 and batch 8. */
  speedup: { batch1: number; batch8: number };
  /** The fidelity gate's cosines on the default calibration set (random weights unless `realWeights`). */
  cosine: { median: number; min: number };
  realWeights: boolean;
}

export const MEASURED_INT8: {
  command: string;
  machine: string;
  date: string;
  models: Partial<Record<ModelId, Int8Measurement>>;
} = {
  command: 'npm run bench -- --only zoo --models resnet50,densenet121,mobilenet_v2,inception_v3,vgg16',
  machine: 'an Intel Xeon with AVX-512 VNNI, 2 vCPUs shared with other jobs (load average 13–15), onnxruntime-node 1.30.0',
  date: '2026-12-01',
  models: {
    resnet50: { speedup: { batch1: 2.18, batch8: 2.11 }, cosine: { median: 0.9999, min: 0.9999 }, realWeights: false },
    densenet121: { speedup: { batch1: 1.83, batch8: 1.01 }, cosine: { median: 0.9965, min: 0.9903 }, realWeights: true },
    mobilenet_v2: { speedup: { batch1: 0.91, batch8: 1.15 }, cosine: { median: 0.9998, min: 0.9994 }, realWeights: false },
    inception_v3: { speedup: { batch1: 1.56, batch8: 1.9 }, cosine: { median: 0.9999, min: 0.9998 }, realWeights: false },
    vgg16: { speedup: { batch1: 2.14, batch8: 3.15 }, cosine: { median: 0.9996, min: 0.9995 }, realWeights: false },
  },
};

/** What `headstart models` shows for a model's int8: the measured speed-up, or that it was slower (fp32 stays its default). */
export function int8Note(id: ModelId): string {
  const m = MEASURED_INT8.models[id];
  if (!m) return 'not measured';
  const { batch1, batch8 } = m.speedup;
  const fmt = (x: number) => `${x.toFixed(2)}×`;
  if (batch1 < 1 && batch8 < 1) return `slower than fp32 here (${fmt(batch1)} at batch 1, ${fmt(batch8)} at batch 8): keep fp32`;
  if (batch1 < 1 || batch8 < 1) {
    const [slow, fast] = batch1 < 1 ? [`${fmt(batch1)} at batch 1`, `${fmt(batch8)} at batch 8`] : [`${fmt(batch8)} at batch 8`, `${fmt(batch1)} at batch 1`];
    return `slower than fp32 here at one batch size (${slow}; ${fast})`;
  }
  return `${fmt(batch1)} at batch 1, ${fmt(batch8)} at batch 8`;
}
