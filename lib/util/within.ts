/**
 * Waits for `promise` at most `ms` milliseconds: resolves to its value, or to `timedOut` when it takes longer (a
 * rejection within the time propagates). The timer never outlives the wait.
 */
export async function within<T, U>(promise: Promise<T>, ms: number, timedOut: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => (timer = setTimeout(() => resolve(timedOut), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
