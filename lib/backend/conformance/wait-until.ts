/**
 * Polls a condition (a throw counts as not yet) until it holds or `timeoutMs` passes; resolves to whether it held.
 * For state a test can only ask about (health, counts in Redis, a collected list); frames have events to wait on.
 */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(condition)
        .catch(() => false)
    ) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}
