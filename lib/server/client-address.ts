import type { IncomingMessage } from 'node:http';

/**
 * The client's address: the socket's peer, or, behind `trustedProxies` proxies, the address the outermost trusted
 * one saw, read from `X-Forwarded-For` right to left (each proxy appends the address it received from). Entries
 * further left are set by the client and never trusted.
 */
export function clientAddress(request: IncomingMessage, trustedProxies: number): string {
  const peer = request.socket.remoteAddress ?? '';
  const forwarded = request.headers['x-forwarded-for'];
  if (trustedProxies === 0 || forwarded === undefined) {
    return peer;
  }
  // The socket's peer is the last hop: the innermost trusted proxy.
  return outermostTrusted([...headerEntries(forwarded), peer], trustedProxies + 1);
}

/** The comma-separated entries of a (possibly repeated) header, trimmed, empty ones dropped. */
export function headerEntries(header: string | readonly string[]): string[] {
  return (typeof header === 'string' ? header : header.join(','))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/**
 * The entry the outermost of `trusted` hops appended to a list each hop appends to (`X-Forwarded-For`,
 * `X-Forwarded-Host`): the `trusted`-th from the right, or the leftmost when the list is shorter.
 */
export function outermostTrusted(entries: readonly string[], trusted: number): string {
  return entries[Math.max(0, entries.length - trusted)];
}
