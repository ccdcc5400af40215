/**
 * Exponential back-off with full jitter kept small (±10 %), for recovery after a failure:
 * 1 s, 2 s, 4 s … up to the maximum. reset() after a success.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(base * (0.9 + 0.2 * this.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}
