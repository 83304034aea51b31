/**
 * A one-line progress bar on stderr. Off when stderr is not a TTY (CI, pipes) or when the caller
 * prints JSON, so machine-readable output is never interleaved with it.
 */
export class ProgressBar {
  private done = 0;
  private failed = 0;
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly enabled: boolean = process.stderr.isTTY === true,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  tick(ok = true): void {
    this.done += 1;
    if (!ok) this.failed += 1;
    const now = Date.now();
    if (now - this.lastDraw > 100 || this.done === this.total) {
      this.lastDraw = now;
      this.draw();
    }
  }

  finish(): void {
    if (this.enabled) this.stream.write('\n');
  }

  private draw(): void {
    if (!this.enabled) return;
    const width = 28;
    const ratio = this.total === 0 ? 1 : this.done / this.total;
    const filled = Math.round(ratio * width);
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const failed = this.failed ? `, ${this.failed} failed` : '';
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ` +
        `(${rate.toFixed(1)}/s${failed})`,
    );
  }
}
