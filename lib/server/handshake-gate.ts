import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConnectionCounter } from '../connection/connection-counter.js';
import type { ConnectionIdentity } from '../connection/connection.js';
import { MemoryConnectionCounter } from '../connection/memory-connection-counter.js';
import { FailureCode, RealtimeBrokerError } from '../errors/realtime-failure.js';
import { NODE_ID, RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';
import { Admission, type Refusal, type Release } from './admission.js';
import { type Authenticated, type AuthRefusal, HandshakeAuthenticator } from './handshake-authenticator.js';

/** A handshake let through: the connection's id (counted already) and who it is. */
export interface Admitted {
  readonly kind: 'accepted';
  readonly connectionId: string;
  readonly identity: ConnectionIdentity;
}

/** What the gate decided after authentication. */
export type GateVerdict =
  | Admitted
  | { readonly kind: 'unauthenticated'; readonly refusal: AuthRefusal }
  | { readonly kind: 'refused'; readonly refusal: Refusal };

/**
 * Decides whether a handshake becomes a connection, touching no socket: first admission (origin, caps on
 * connections in total and per IP), then authentication, then the per-user cap, checked and counted in one step by
 * the `ConnectionCounter` (for the cluster when the counter is shared). The endpoint acts on what it decides.
 *
 * A counter that fails lets the handshake through (fail open, like the frame rate limit), logged and reported.
 */
@Injectable()
export class HandshakeGate {
  readonly #logger = new Logger('RealtimeModule');
  readonly #admission: Admission;
  #sequence = 0;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    @Inject(NODE_ID) private readonly nodeId: string,
    private readonly authenticator: HandshakeAuthenticator,
    private readonly counter: ConnectionCounter,
    private readonly hooks: LifecycleHooks,
  ) {
    this.#admission = new Admission(options);
  }

  /** Whether there is no authenticator (every connection is anonymous). */
  get anonymous(): boolean {
    return this.authenticator.anonymous;
  }

  /** Before any authentication work: a refusal, or the release to call when the handshake or connection ends. */
  admit(request: IncomingMessage, address: string): Release | Refusal {
    return this.#admission.admit(request, address);
  }

  /**
   * Authenticates, then applies the per-user cap; an accepted handshake is counted (see {@link uncount}). Synchronous
   * when the authenticator is and the counter is the embedded one.
   */
  authorize(request: IncomingMessage): GateVerdict | Promise<GateVerdict> {
    const identity = this.authenticator.authenticate(request);
    return identity instanceof Promise ? identity.then((resolved) => this.#count(resolved)) : this.#count(identity);
  }

  #count(identity: Authenticated): GateVerdict | Promise<GateVerdict> {
    if ('status' in identity) {
      return { kind: 'unauthenticated', refusal: identity };
    }
    const connectionId = `${this.nodeId}.${(++this.#sequence).toString(36)}`;
    const { userId } = identity;
    const perUser = this.options.maxConnectionsPerUser;
    const limit = userId === null || perUser === 0 ? undefined : perUser;
    const counter = this.counter;
    // The embedded counter (not a subclass that counts differently) counts synchronously.
    if (counter instanceof MemoryConnectionCounter && counter.add === MemoryConnectionCounter.prototype.add) {
      return counter.addNow(connectionId, userId, limit)
        ? { kind: 'accepted', connectionId, identity }
        : this.#tooMany(userId!, perUser);
    }
    if (limit === undefined) {
      counter.add(connectionId, userId).catch((error: unknown) => this.#failed(connectionId, 'Counting', error));
      return { kind: 'accepted', connectionId, identity };
    }
    return this.#capped(connectionId, identity, limit);
  }

  /** Counts in a shared counter, which applies the per-user cap for the cluster. */
  async #capped(connectionId: string, identity: ConnectionIdentity, limit: number): Promise<GateVerdict> {
    let counted = true;
    try {
      counted = await this.counter.add(connectionId, identity.userId, limit);
    } catch (error) {
      this.#failed(connectionId, 'Counting (the per-user cap was not applied)', error);
    }
    return counted ? { kind: 'accepted', connectionId, identity } : this.#tooMany(identity.userId!, limit);
  }

  #tooMany(userId: string, limit: number): GateVerdict {
    this.#logger.debug(`Handshake of user "${userId}" refused: ${limit} connections already`);
    return {
      kind: 'refused',
      refusal: { status: 429, message: 'Too many connections for this user', code: FailureCode.TOO_MANY_CONNECTIONS },
    };
  }

  /** Takes a counted connection out of the counts: it closed, or its handshake never completed. */
  uncount(connectionId: string, userId: string | null): void {
    this.counter
      .remove(connectionId, userId)
      .catch((error: unknown) => this.#failed(connectionId, 'Uncounting', error));
  }

  #failed(connectionId: string, what: string, error: unknown): void {
    const message = `[${connectionId}] ${what} the connection failed`;
    this.#logger.warn(`${message}: ${(error as Error)?.message ?? String(error)}`);
    this.hooks.report(() => new RealtimeBrokerError(FailureCode.BROKER_FAILED, message, { cause: error }));
  }
}
