import type { IncomingMessage } from 'node:http';
import type { Type } from '@nestjs/common';

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
  authenticate(request: IncomingMessage): RealtimeIdentity | null | Promise<RealtimeIdentity | null>;
}

/** The function form of {@link RealtimeAuthenticator}. */
export type AuthenticateFunction = (
  request: IncomingMessage,
) => RealtimeIdentity | null | Promise<RealtimeIdentity | null>;

/** An injectable class implementing {@link RealtimeAuthenticator}. */
export type RealtimeAuthenticatorType = Type<RealtimeAuthenticator>;
