/** The value at quantile `q` (0 to 1) of `values` (sorted in place). */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.floor(q * values.length))];
}

export function median(values: readonly number[]): number {
  return percentile([...values], 0.5);
}

/** Resolves after `ms`: the benchmark runs for fixed durations (tests never do this). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
