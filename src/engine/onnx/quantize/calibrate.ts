import { loadOnnxRuntime } from '../runtime.js';

/** How an activation's range is taken from what calibration saw. */
export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface CalibrationOptions {
  method: CalibrationMethod;
  /** Share of values kept inside the range ('percentile'). @default 0.9999 */
  percentile?: number;
}

const BINS = 2048;

/** One tensor's running statistics: its extremes, then (second pass) a histogram over them. */
class TensorStats {
  min = Infinity;
  max = -Infinity;
  histogram?: Float64Array;

  observeRange(data: Float32Array): void {
    let { min, max } = this;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.min = min;
    this.max = max;
  }

  observeHistogram(data: Float32Array): void {
    const hist = (this.histogram ??= new Float64Array(BINS));
    const width = (this.max - this.min) / BINS || 1;
    for (let i = 0; i < data.length; i++) hist[Math.min(BINS - 1, Math.floor((data[i]! - this.min) / width))]! += 1;
  }

  /** The range the method keeps. */
  range(options: CalibrationOptions): [number, number] {
    if (options.method === 'minmax' || !this.histogram || this.max <= this.min) return [this.min, this.max];
    return options.method === 'percentile' ? this.percentileRange(options.percentile ?? 0.9999) : this.entropyRange();
  }

  private edge(bin: number): number {
    return this.min + ((this.max - this.min) * bin) / BINS;
  }

  /** Cuts the tails beyond the percentile on each side (values below 0 and above 0 are counted apart). */
  private percentileRange(keep: number): [number, number] {
    const hist = this.histogram!;
    const total = hist.reduce((a, b) => a + b, 0);
    const cut = total * (1 - keep);
    let lo = 0;
    for (let acc = 0; lo < BINS && acc + hist[lo]! <= cut / 2; lo++) acc += hist[lo]!;
    let hi = BINS;
    for (let acc = 0; hi > lo && acc + hist[hi - 1]! <= cut / 2; hi--) acc += hist[hi - 1]!;
    return [lo === 0 ? this.min : this.edge(lo), this.edge(hi)];
  }

  /**
   * TensorRT's entropy calibration on the upper range: the clip point whose 128-level quantized histogram
   * loses least information (KL divergence) against the clipped reference. The lower bound stays the minimum
   * (our activations are mostly ReLU outputs, min 0).
   */
  private entropyRange(): [number, number] {
    const hist = this.histogram!;
    const zeroBin = Math.max(0, Math.min(BINS - 1, Math.floor(((0 - this.min) / (this.max - this.min)) * BINS)));
    const levels = 128;
    let best = BINS;
    let bestKl = Infinity;
    for (let end = zeroBin + levels; end <= BINS; end += 16) {
      const kl = klDivergence(hist.subarray(zeroBin, end), hist.subarray(end), levels);
      if (kl < bestKl) {
        bestKl = kl;
        best = end;
      }
    }
    return [this.min, this.edge(best)];
  }
}

/** KL(P‖Q): P is the histogram with the outliers folded into its last bin, Q its `levels`-level quantization. */
function klDivergence(kept: Float64Array, outliers: Float64Array, levels: number): number {
  const p = Float64Array.from(kept);
  p[p.length - 1]! += outliers.reduce((a, b) => a + b, 0);
  const q = new Float64Array(p.length);
  const per = p.length / levels;
  for (let l = 0; l < levels; l++) {
    const start = Math.floor(l * per);
    const end = Math.floor((l + 1) * per);
    let sum = 0;
    let nonzero = 0;
    for (let i = start; i < end; i++) {
      sum += kept[i]!;
      if (kept[i]! > 0) nonzero++;
    }
    for (let i = start; i < end; i++) if (kept[i]! > 0) q[i] = sum / nonzero;
  }
  const pSum = p.reduce((a, b) => a + b, 0);
  const qSum = q.reduce((a, b) => a + b, 0);
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! === 0) continue;
    const pi = p[i]! / pSum;
    const qi = q[i]! > 0 ? q[i]! / qSum : 1e-12;
    kl += pi * Math.log(pi / qi);
  }
  return kl;
}

/**
 * Runs the float graph (with `tensors` added as outputs) over the calibration batches and returns each
 * tensor's range by the chosen method: one pass for min-max, a second over a 2,048-bin histogram for the
 * others. ONNX Runtime runs on this thread: calibration is a one-off step, not the request path.
 */
export async function calibrateRanges(
  graph: Uint8Array,
  inputName: string,
  batches: ReadonlyArray<{ data: Float32Array; dims: number[] }>,
  tensors: readonly string[],
  options: CalibrationOptions,
): Promise<Map<string, [number, number]>> {
  const ort = await loadOnnxRuntime();
  const session = await ort.InferenceSession.create(graph, { graphOptimizationLevel: 'disabled' });
  try {
    const stats = new Map(tensors.map((t) => [t, new TensorStats()]));
    const pass = async (observe: (s: TensorStats, data: Float32Array) => void) => {
      for (const batch of batches) {
        const outputs = await session.run({ [inputName]: new ort.Tensor('float32', batch.data, batch.dims) }, [...tensors]);
        for (const t of tensors) observe(stats.get(t)!, outputs[t]!.data as Float32Array);
      }
    };
    await pass((s, data) => s.observeRange(data));
    if (options.method !== 'minmax') await pass((s, data) => s.observeHistogram(data));
    return new Map([...stats].map(([t, s]) => [t, s.range(options)]));
  } finally {
    await session.release();
  }
}
