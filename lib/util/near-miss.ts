/**
 * Whether `name` looks like a misspelling of `target`: the same letters in another case, or one edit away (a letter
 * added, dropped, changed, or two neighbours swapped).
 */
export function isNearMiss(name: string, target: string): boolean {
  if (name === target) {
    return false;
  }
  return name.toLowerCase() === target.toLowerCase() || editDistance(name, target, 1) <= 1;
}

/** The optimal-string-alignment distance of `a` and `b`, counted up to `limit + 1` (beyond, it stops early). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) {
    return limit + 1;
  }
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = best;
    }
  }
  return rows[a.length][b.length];
}
