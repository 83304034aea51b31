/**
 * Adam over Float32Array parameters, step for step the update of TF.js' AdamOptimizer (and Keras'):
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε).
 */
export class JsAdam {
  private readonly moments: { m: Float32Array; v: Float32Array }[];
  private step = 0;

  constructor(
    sizes: number[],
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    /** TF.js' float32 backend epsilon, also Keras' default. */
    private readonly epsilon = 1e-7,
  ) {
    this.moments = sizes.map((size) => ({ m: new Float32Array(size), v: new Float32Array(size) }));
  }

  /** Applies one step; params[i] and grads[i] pair with the sizes given to the constructor. */
  apply(params: Float32Array[], grads: Float32Array[]): void {
    this.step++;
    const { beta1, beta2, epsilon } = this;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    const lr = this.learningRate;
    params.forEach((param, index) => {
      const grad = grads[index];
      const { m, v } = this.moments[index];
      for (let i = 0; i < param.length; i++) {
        const g = grad[i];
        const mi = beta1 * m[i] + (1 - beta1) * g;
        const vi = beta2 * v[i] + (1 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= (lr * (mi / correction1)) / (Math.sqrt(vi / correction2) + epsilon);
      }
    });
  }
}
