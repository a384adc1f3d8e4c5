import { Inject, Injectable } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import { FailureCode, RealtimeAuthError } from '../errors/realtime-failure.js';
import { CloseCode } from '../protocol/error-codes.js';
import { ServerFrameType } from '../protocol/message-types.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';

/** How often the deadlines are checked: the warning and the close happen within this of their time. */
const CHECK_EVERY_MS = 250;

/**
 * Enforces credential expiry (a connection's `expiresAt`): `system:token_expiring {expiresAt}` once,
 * `tokenExpiryWarningMs` before it, then a close with 4007 "Token expired" at it, unless a `refresh` moved it. One
 * timer for every expiring connection, running only while there is one.
 */
@Injectable()
export class TokenExpiry {
  /** Expiring connections, and whether each was warned for its current deadline. */
  readonly #watched = new Map<Connection, boolean>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** Watches a connection's `expiresAt` (again, after a refresh moved it: a new warning will come). */
  watch(connection: Connection): void {
    if (connection.expiresAt === undefined) {
      this.#watched.delete(connection);
      return;
    }
    this.#watched.set(connection, false);
    this.#timer ??= setInterval(() => this.check(Date.now()), CHECK_EVERY_MS).unref();
    // This one only: a connect storm must not scan every watched connection once per handshake.
    this.#checkOne(connection, false, Date.now());
  }

  forget(connection: Connection): void {
    this.#watched.delete(connection);
    if (this.#watched.size === 0) {
      this.stop();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  check(now: number): void {
    for (const [connection, warned] of this.#watched) {
      this.#checkOne(connection, warned, now);
    }
    if (this.#watched.size === 0) {
      this.stop();
    }
  }

  #checkOne(connection: Connection, warned: boolean, now: number): void {
    const expiresAt = connection.expiresAt;
    if (expiresAt === undefined || connection.closed) {
      this.#watched.delete(connection);
    } else if (now >= expiresAt) {
      this.#watched.delete(connection);
      connection.close(CloseCode.TOKEN_EXPIRED, 'Token expired');
      this.hooks.report(
        () =>
          new RealtimeAuthError(FailureCode.TOKEN_EXPIRED, 'The token expired without a refresh: closed with 4007', {
            client: connection.view,
            closeCode: CloseCode.TOKEN_EXPIRED,
          }),
      );
    } else if (!warned && now >= expiresAt - this.options.tokenExpiryWarningMs) {
      this.#watched.set(connection, true);
      connection.sendEnvelope({ type: ServerFrameType.TOKEN_EXPIRING, payload: { expiresAt }, timestamp: now });
    }
  }
}
