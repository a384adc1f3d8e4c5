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
  const chain = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  chain.push(peer);
  return chain[Math.max(0, chain.length - 1 - trustedProxies)];
}
