import type { IncomingMessage } from 'node:http';
import type { Type } from '@nestjs/common';
import type { RealtimeConnection } from './realtime-connection.interface.js';

/** Who a connection belongs to, as established by the handshake's authentication. */
export interface RealtimeIdentity {
  /**
   * The user id: `sender` of this connection's messages, the key of `sendToUser`. 1 to 256 characters. `null`
   * accepts the connection as anonymous (visitors), where guards can then require a user.
   */
  readonly userId: string | null;
  /** Anything the app wants to keep with the connection (roles, tenant, ...): visible to handlers and guards. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /**
   * Public info shown to the other members of presence channels (a display name, an avatar URL): a plain JSON
   * object of at most `maxPresenceInfoBytes`. A channel's `canJoin` may return other info for that channel.
   */
  readonly info?: Readonly<Record<string, unknown>>;
  /**
   * When the credential expires (ms since the epoch; a JWT's `exp` × 1000). The connection is told
   * `system:token_expiring` `tokenExpiryWarningMs` before it and closed with 4007 at it, unless a `refresh` frame
   * brings a fresh token first (the authenticator's `refresh`). Without it, the connection does not expire.
   */
  readonly expiresAt?: number;
}

/**
 * Authenticates a WebSocket handshake. Return the identity, or `null` to refuse it with HTTP 401 before the upgrade
 * (a throw is refused the same way, and logged). Implement it as an injectable class to use the app's providers.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class JwtAuthenticator implements RealtimeAuthenticator {
 *   constructor(private readonly jwt: JwtService) {}
 *   async authenticate(request: IncomingMessage) {
 *     const token = getHandshakeToken(request);
 *     if (!token) return null;
 *     const { sub } = await this.jwt.verifyAsync<{ sub: string }>(token);
 *     return { userId: sub };
 *   }
 * }
 * ```
 */
export interface RealtimeAuthenticator {
  /** Identifies the handshake's user from its request (headers, query, a `bearer.` subprotocol entry); null refuses it with 401. */
  authenticate(request: IncomingMessage): RealtimeIdentity | null | Promise<RealtimeIdentity | null>;
  /**
   * Verifies a fresh token a connection sent in band (`{type: 'refresh', token}`) and returns its identity, with the
   * new `expiresAt`; it must be the same user. Throw (or return null) to refuse it. Without this method, refreshes are
   * refused and connections close when their `expiresAt` passes.
   */
  refresh?(token: string, client: RealtimeConnection): RealtimeIdentity | null | Promise<RealtimeIdentity | null>;
}

/** The function form of {@link RealtimeAuthenticator} (with `refresh` as a property, as `jwtAuth()` makes it). */
export type AuthenticateFunction = ((
  request: IncomingMessage,
) => RealtimeIdentity | null | Promise<RealtimeIdentity | null>) &
  Pick<RealtimeAuthenticator, 'refresh'>;

/** An injectable class implementing {@link RealtimeAuthenticator}. */
export type RealtimeAuthenticatorType = Type<RealtimeAuthenticator>;
