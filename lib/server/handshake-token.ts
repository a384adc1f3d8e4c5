import type { IncomingMessage } from 'node:http';

/**
 * The credential of a handshake: the `token` query parameter (browsers cannot set headers on a WebSocket) or an
 * `Authorization: Bearer <token>` header. Returns undefined when there is neither.
 */
export function getHandshakeToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  // The auth scheme is case-insensitive (RFC 7235).
  if (typeof header === 'string' && header.slice(0, 7).toLowerCase() === 'bearer ') {
    const token = header.slice(7).trim();
    if (token) {
      return token;
    }
  }
  const url = request.url ?? '';
  const query = url.indexOf('?');
  if (query === -1) {
    return undefined;
  }
  return new URLSearchParams(url.slice(query + 1)).get('token') ?? undefined;
}
