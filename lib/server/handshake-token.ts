import type { IncomingMessage } from 'node:http';

/** The prefix of a `Sec-WebSocket-Protocol` entry that carries a token: `bearer.<token>`. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'bearer.';

/**
 * The credential of a handshake, from the first of: a `bearer.<token>` entry of `Sec-WebSocket-Protocol` (browsers
 * cannot set headers on a WebSocket, and a URL ends up in proxy logs; the client must offer `realtime.v1` too, which
 * the server selects), an `Authorization: Bearer <token>` header, or the `token` query parameter. Returns undefined
 * when there is none.
 */
export function getHandshakeToken(request: IncomingMessage): string | undefined {
  const protocols = request.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string' && protocols.includes(TOKEN_SUBPROTOCOL_PREFIX)) {
    for (const entry of protocols.split(',')) {
      const trimmed = entry.trim();
      if (trimmed.startsWith(TOKEN_SUBPROTOCOL_PREFIX) && trimmed.length > TOKEN_SUBPROTOCOL_PREFIX.length) {
        return trimmed.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
      }
    }
  }
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
  return queryToken(url.slice(query + 1));
}

/**
 * The `token` parameter of a query string, as `URLSearchParams` reads it. A query with nothing encoded in it (a JWT
 * is base64url and dots) is read directly, with no parser object per handshake.
 */
function queryToken(search: string): string | undefined {
  if (search.includes('%') || search.includes('+')) {
    return new URLSearchParams(search).get('token') ?? undefined;
  }
  for (const pair of search.split('&')) {
    if (pair.startsWith('token=')) {
      return pair.slice('token='.length);
    }
    if (pair === 'token') {
      return '';
    }
  }
  return undefined;
}
