/**
 * Exponential backoff as client-go's wait.Backoff: each failure doubles the delay up to
 * a cap; a success resets it. Jitter comes from an injected source so tests stay
 * deterministic.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor?: number;
  /** Fraction of the delay added at random (0 = none). */
  readonly jitter?: number;
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; grows with each call. */
  next(): number {
    const factor = this.options.factor ?? 2;
    const base = Math.min(this.options.maxMs, this.options.initialMs * factor ** this.attempt);
    this.attempt += 1;
    const jitter = this.options.jitter ?? 0;
    const random = this.options.random ?? (() => 0.5);
    return Math.round(base * (1 + jitter * random()));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
