import type { IncomingMessage } from 'node:http';
import { headerEntries, outermostTrusted } from './client-address.js';

/**
 * The host the client addressed, as the outermost of `trustedProxies` proxies received it: from `Forwarded`
 * (RFC 7239, its `host=` parameters) or else `X-Forwarded-Host`, read right to left like `X-Forwarded-For` (each
 * proxy appends what it received; entries further left were set by the client, never trusted). Undefined when no
 * proxy is trusted or none said.
 */
export function forwardedHost(request: IncomingMessage, trustedProxies: number): string | undefined {
  if (trustedProxies === 0) {
    return undefined;
  }
  const header = request.headers['x-forwarded-host'];
  const hosts = forwardedHosts(request.headers.forwarded) ?? (header === undefined ? [] : headerEntries(header));
  return hosts.length === 0 ? undefined : outermostTrusted(hosts, trustedProxies);
}

/** The `host=` of each element of a `Forwarded` header that has one, in order. */
function forwardedHosts(header: string | undefined): string[] | undefined {
  if (header === undefined) {
    return undefined;
  }
  const hosts: string[] = [];
  for (const element of header.split(',')) {
    for (const pair of element.split(';')) {
      const [name, value] = pair.split('=', 2).map((part) => part.trim());
      if (name?.toLowerCase() === 'host' && value) {
        hosts.push(value.replace(/^"(.*)"$/, '$1'));
      }
    }
  }
  return hosts.length === 0 ? undefined : hosts;
}
