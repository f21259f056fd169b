export interface ProgressOptions {
  total: number;
  label?: string;
  stream?: NodeJS.WritableStream;
  /** Force the redrawn bar on or off; default: only when the stream is a TTY. */
  interactive?: boolean;
  /** Without a TTY, print a line every this many percent (0 = never). Default 10. */
  everyPercent?: number;
}

/**
 * A progress bar for long work: redrawn in place on a terminal; without a TTY (CI, pipes, `--json`) a
 * plain line every 10% so logs stay readable, or nothing at all with `everyPercent: 0`.
 */
export class Progress {
  private readonly stream: NodeJS.WritableStream;
  private readonly interactive: boolean;
  private readonly start = Date.now();
  private lastPercentLogged = -1;
  private done = 0;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.interactive = options.interactive ?? (this.stream as NodeJS.WriteStream).isTTY === true;
  }

  update(done: number, info = ''): void {
    this.done = done;
    const total = Math.max(1, this.options.total);
    const fraction = Math.min(1, done / total);
    const elapsed = (Date.now() - this.start) / 1000;
    // Under 0.1 s a rate means nothing (a cached phase finishing at once would print billions per second).
    const rate = elapsed >= 0.1 ? done / elapsed : null;
    const eta = rate != null && rate > 0 ? `eta ${((total - done) / rate).toFixed(0)}s` : '';
    const label = this.options.label ? `${this.options.label} ` : '';
    const speed = rate != null ? `${rate.toFixed(1)}/s ` : '';
    const text = `${label}${done}/${total} (${(100 * fraction).toFixed(0)}%) ${speed}${eta} ${info}`
      .replace(/ +/g, ' ')
      .trimEnd();
    if (this.interactive) {
      const width = 24;
      const filled = Math.round(width * fraction);
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      return;
    }
    const every = this.options.everyPercent ?? 10;
    if (every <= 0) return;
    const percent = Math.floor((100 * fraction) / every) * every;
    if (percent > this.lastPercentLogged) {
      this.lastPercentLogged = percent;
      this.stream.write(text + '\n');
    }
  }

  finish(info = ''): void {
    if (this.interactive) {
      this.update(this.done, info);
      this.stream.write('\n');
    }
  }
}
