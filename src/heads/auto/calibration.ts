/**
 * Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", 2017): one scalar T > 0
 * that divides every logit, chosen to minimize the log-loss of held-out predictions. It changes
 * confidence, never the predicted class. Fitted here on out-of-fold logits, which no model saw in training.
 */

/** Softmax of logits / temperature, row by row, into a new array. */
export function softmaxRows(logits: Float32Array, numClasses: number, temperature = 1): Float32Array {
  const out = new Float32Array(logits.length);
  for (let offset = 0; offset < logits.length; offset += numClasses) {
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) max = Math.max(max, logits[offset + c]!);
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      const e = Math.exp((logits[offset + c]! - max) / temperature);
      out[offset + c] = e;
      sum += e;
    }
    for (let c = 0; c < numClasses; c++) out[offset + c]! /= sum;
  }
  return out;
}

/** Mean negative log-likelihood of the true classes under softmax(logits / temperature). */
export function temperatureLogLoss(logits: Float32Array, truth: Int32Array, numClasses: number, temperature: number): number {
  let total = 0;
  for (let row = 0; row < truth.length; row++) {
    const offset = row * numClasses;
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) max = Math.max(max, logits[offset + c]! / temperature);
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += Math.exp(logits[offset + c]! / temperature - max);
    total += max + Math.log(sum) - logits[offset + truth[row]!]! / temperature;
  }
  return total / truth.length;
}

/**
 * The temperature that minimizes the log-loss: golden-section search on log T over [1/20, 20] (the
 * loss is unimodal in T for fixed logits), to a relative precision of 1e-4.
 */
export function fitTemperature(logits: Float32Array, truth: Int32Array, numClasses: number): number {
  let lo = Math.log(1 / 20);
  let hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  const loss = (logT: number) => temperatureLogLoss(logits, truth, numClasses, Math.exp(logT));
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = loss(a);
  let fb = loss(b);
  while (hi - lo > 1e-4) {
    if (fa < fb) {
      [hi, b, fb] = [b, a, fa];
      a = hi - phi * (hi - lo);
      fa = loss(a);
    } else {
      [lo, a, fa] = [a, b, fb];
      b = lo + phi * (hi - lo);
      fb = loss(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Expected calibration error of the top label: rows binned by their top probability into `bins` equal
 * widths of [0, 1]; the mean over bins of |accuracy − mean confidence|, weighted by the bin's share of
 * rows (Naeini et al. 2015; Guo et al. use 15 bins).
 */
export function expectedCalibrationError(probs: Float32Array, truth: Int32Array, numClasses: number, bins = 15): number {
  const count = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  const correct = new Float64Array(bins);
  for (let row = 0; row < truth.length; row++) {
    const offset = row * numClasses;
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probs[offset + c]! > probs[offset + best]!) best = c;
    const p = probs[offset + best]!;
    const bin = Math.min(bins - 1, Math.floor(p * bins));
    count[bin]++;
    confidence[bin] += p;
    if (best === truth[row]) correct[bin]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += Math.abs(correct[b]! - confidence[b]!) / truth.length;
  return ece;
}
