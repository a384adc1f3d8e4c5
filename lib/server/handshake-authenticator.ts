import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ConnectionIdentity } from '../connection/connection.js';
import { type MetadataLimits, metadataLimitsOf, metadataProblem } from '../connection/connection-metadata.js';
import type {
  AuthenticateFunction,
  RealtimeAuthenticator,
  RealtimeAuthenticatorType,
  RealtimeIdentity,
} from '../interfaces/authenticator.interface.js';
import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';
import { handshakeAnswerFor } from '../exceptions/exception-mapper.js';
import { presenceInfoProblem } from '../presence/presence-info.js';
import { PROTOCOL_LIMITS } from '../protocol/limits.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import { RealtimeOptionsError, type ResolvedRealtimeOptions } from '../realtime.options.js';

/** Why a handshake was not authenticated: the HTTP answer, and what the authenticator threw, if it did. */
export interface AuthRefusal {
  readonly status: number;
  /** The JSON body: the exception's response; undefined for the plain 401. */
  readonly body?: object;
  readonly headers?: Readonly<Record<string, string>>;
  /** For logs and `OnRealtimeError`, never sent: why it was refused. */
  readonly reason: string;
  readonly cause?: unknown;
}

/** What authenticating a handshake gives: the connection's identity, or why it is refused. */
export type Authenticated = ConnectionIdentity | AuthRefusal;

/**
 * The header that carries a testing kit's one-time ticket (`nestjs-realtime/testing`): a handshake that presents a
 * ticket the kit issued in this process is admitted as the identity the kit gave, without the authenticator. No
 * ticket exists unless a test asked for one, so the header means nothing to a server in production.
 */
export const TEST_TICKET_HEADER = 'x-realtime-test-ticket';

const UNAUTHORIZED: AuthRefusal = { status: 401, reason: 'the authenticator returned null' };

const EMPTY = Object.freeze({});
const ANONYMOUS: ConnectionIdentity = Object.freeze({ userId: null, metadata: EMPTY, info: EMPTY });

/**
 * Runs the app's authenticator on each handshake; resolves to the identity, or to a refusal: 401, or the status of
 * an `HttpException` the authenticator threw.
 */
@Injectable()
export class HandshakeAuthenticator implements OnModuleInit {
  readonly #logger = new Logger('RealtimeModule');
  #authenticate: AuthenticateFunction | undefined;
  #refresh: RealtimeAuthenticator['refresh'];
  readonly #metadataLimits: MetadataLimits;
  /** One-time tickets the testing kit issued, each for an identity; undefined until it issues one. */
  #testTickets: Map<string, RealtimeIdentity> | undefined;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    this.#metadataLimits = metadataLimitsOf(options);
  }

  get anonymous(): boolean {
    return this.#authenticate === undefined;
  }

  async onModuleInit(): Promise<void> {
    const { authenticate } = this.options;
    if (authenticate === undefined) {
      return;
    }
    if (!isAuthenticatorClass(authenticate)) {
      // A built-in authenticator (jwtAuth) prepares its keys now, so a bad key fails the boot.
      await (authenticate as Partial<{ prepare(): Promise<void> }>).prepare?.();
      this.#authenticate = authenticate;
      this.#refresh = authenticate.refresh;
      return;
    }
    const authenticator = await this.#resolve(authenticate);
    this.#authenticate = (request) => authenticator.authenticate(request);
    this.#refresh = authenticator.refresh?.bind(authenticator);
  }

  /**
   * For the testing kit: a random one-time ticket that admits one handshake as `identity`, skipping the
   * authenticator (the identity is checked as an authenticator's would be). See {@link TEST_TICKET_HEADER}.
   */
  issueTestTicket(identity: RealtimeIdentity): string {
    const ticket = randomBytes(18).toString('base64url');
    (this.#testTickets ??= new Map()).set(ticket, identity);
    return ticket;
  }

  /**
   * The handshake's identity, or why it is refused. Synchronous when the authenticator is (the built-in JWT check
   * with a secret): a handshake then costs no promise and no extra event-loop turn.
   */
  authenticate(request: IncomingMessage): Authenticated | Promise<Authenticated> {
    if (this.#testTickets !== undefined) {
      const identity = this.#redeemTestTicket(request);
      if (identity !== undefined) {
        return this.#checked(identity);
      }
    }
    if (this.#authenticate === undefined) {
      return ANONYMOUS;
    }
    let identity: unknown;
    try {
      identity = this.#authenticate(request);
    } catch (error) {
      return this.#thrown(error);
    }
    if (isThenable(identity)) {
      return Promise.resolve(identity).then(
        (resolved: unknown) => this.#checked(resolved),
        (error: unknown) => this.#thrown(error),
      );
    }
    return this.#checked(identity);
  }

  /** The refusal for an authenticator that threw: 401, or the status of the `HttpException` it threw. */
  #thrown(error: unknown): AuthRefusal {
    const reason = `the authenticator threw: ${(error as Error)?.message ?? String(error)}`;
    this.#logger.debug(`Handshake refused: ${reason}`);
    const answer = handshakeAnswerFor(error);
    return answer === undefined ? { status: 401, reason, cause: error } : { ...answer, reason, cause: error };
  }

  #redeemTestTicket(request: IncomingMessage): RealtimeIdentity | undefined {
    const ticket = request.headers[TEST_TICKET_HEADER];
    const identity = typeof ticket === 'string' ? this.#testTickets!.get(ticket) : undefined;
    if (identity !== undefined) {
      this.#testTickets!.delete(ticket as string);
    }
    return identity;
  }

  /** What an authenticator returned, checked: the connection's identity, or a refusal naming what is wrong. */
  #checked(identity: unknown): ConnectionIdentity | AuthRefusal {
    if (identity === null || identity === undefined) {
      return UNAUTHORIZED;
    }
    const { userId, metadata, info, expiresAt } = identity as {
      userId?: unknown;
      metadata?: unknown;
      info?: unknown;
      expiresAt?: unknown;
    };
    if (userId === null) {
      // Accepted without a user: an app may let visitors in and guard what needs a user.
      return ANONYMOUS;
    }
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > PROTOCOL_LIMITS.recipientMaxLength) {
      return this.#misconfigured(
        `the authenticator returned no valid userId (a string of 1 to ${PROTOCOL_LIMITS.recipientMaxLength} ` +
          `characters), got ${JSON.stringify(userId)}`,
      );
    }
    const infoProblem = info === undefined ? undefined : presenceInfoProblem(info, this.options.maxPresenceInfoBytes);
    if (infoProblem !== undefined) {
      return this.#misconfigured(`the authenticator returned bad "info" for user "${userId}": ${infoProblem}`);
    }
    const metaProblem = metadata === undefined ? undefined : metadataProblem(metadata, this.#metadataLimits);
    if (metaProblem !== undefined) {
      return this.#misconfigured(`the authenticator returned bad "metadata" for user "${userId}": ${metaProblem}`);
    }
    if (expiresAt !== undefined && !(typeof expiresAt === 'number' && Number.isFinite(expiresAt))) {
      return this.#misconfigured(
        `the authenticator returned a bad "expiresAt" for user "${userId}" (ms since the epoch), got ${JSON.stringify(expiresAt)}`,
      );
    }
    return {
      userId,
      metadata: (metadata as Record<string, unknown> | undefined) ?? EMPTY,
      info: (info as Record<string, unknown> | undefined) ?? EMPTY,
      expiresAt,
    };
  }

  /**
   * Verifies a fresh token a connection sent in band; resolves to its new expiry, or to why it was refused (a message
   * for the `error` frame; the detail goes to the log). The token must be for the same user.
   */
  async refresh(
    client: RealtimeConnection,
    token: string,
  ): Promise<{ expiresAt: number | undefined } | { refused: string }> {
    if (this.#refresh === undefined) {
      return { refused: 'This server does not refresh tokens in band: reconnect with a fresh one' };
    }
    let identity: RealtimeIdentity | null;
    try {
      identity = await this.#refresh(token, client);
    } catch (error) {
      this.#logger.debug(`[${client.id}] refresh refused: ${(error as Error)?.message ?? String(error)}`);
      return { refused: 'The token was refused' };
    }
    if (identity === null || identity === undefined) {
      return { refused: 'The token was refused' };
    }
    if (identity.userId !== client.userId) {
      this.#logger.debug(
        `[${client.id}] refresh refused: the token is for "${identity.userId}", not "${client.userId}"`,
      );
      return { refused: 'The token is for another user' };
    }
    const { expiresAt } = identity;
    if (expiresAt !== undefined && !(typeof expiresAt === 'number' && Number.isFinite(expiresAt))) {
      return { refused: 'The token was refused' };
    }
    return { expiresAt };
  }

  /** A refusal caused by the app's authenticator returning something unusable: an error in the log, a 401. */
  #misconfigured(reason: string): AuthRefusal {
    this.#logger.error(`Handshake refused: ${reason}`);
    return { status: 401, reason };
  }

  async #resolve(type: RealtimeAuthenticatorType): Promise<RealtimeAuthenticator> {
    try {
      return this.moduleRef.get(type, { strict: false });
    } catch {
      // Not a provider of the app: instantiate it, which works when its dependencies are reachable from here.
    }
    try {
      return await this.moduleRef.create(type);
    } catch (error) {
      throw new RealtimeOptionsError(
        `Invalid RealtimeModule option "authenticate": ${type.name} could not be created ` +
          `(${(error as Error)?.message ?? String(error)}). Register it in the providers of one of your modules.`,
      );
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as Partial<PromiseLike<unknown>> | null)?.then === 'function';
}

function isAuthenticatorClass(
  value: RealtimeAuthenticatorType | AuthenticateFunction,
): value is RealtimeAuthenticatorType {
  return typeof (value.prototype as Partial<RealtimeAuthenticator> | undefined)?.authenticate === 'function';
}
