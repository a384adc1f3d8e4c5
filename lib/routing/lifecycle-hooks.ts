import { Injectable, Logger } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import { FailureCode, RealtimeConnectionError, type RealtimeFailure } from '../errors/realtime-failure.js';
import { closeForException } from '../exceptions/exception-mapper.js';
import type {
  DisconnectInfo,
  OnRealtimeConnect,
  OnRealtimeDisconnect,
  OnRealtimeError,
  OnRealtimeHeartbeatTimeout,
} from '../interfaces/lifecycle.interface.js';

/**
 * The providers implementing the lifecycle hooks (`OnRealtimeConnect`, `OnRealtimeDisconnect`, `OnRealtimeError`,
 * `OnRealtimeHeartbeatTimeout`), called in discovery order.
 */
@Injectable()
export class LifecycleHooks {
  readonly #logger = new Logger('RealtimeModule');
  readonly #onConnect: OnRealtimeConnect[] = [];
  readonly #onDisconnect: OnRealtimeDisconnect[] = [];
  readonly #onError: OnRealtimeError[] = [];
  readonly #onHeartbeatTimeout: OnRealtimeHeartbeatTimeout[] = [];

  register(instance: object): void {
    const hooks = instance as Partial<
      OnRealtimeConnect & OnRealtimeDisconnect & OnRealtimeError & OnRealtimeHeartbeatTimeout
    >;
    if (typeof hooks.onRealtimeConnect === 'function') {
      this.#onConnect.push(instance as OnRealtimeConnect);
    }
    if (typeof hooks.onRealtimeDisconnect === 'function') {
      this.#onDisconnect.push(instance as OnRealtimeDisconnect);
    }
    if (typeof hooks.onRealtimeError === 'function') {
      this.#onError.push(instance as OnRealtimeError);
    }
    if (typeof hooks.onRealtimeHeartbeatTimeout === 'function') {
      this.#onHeartbeatTimeout.push(instance as OnRealtimeHeartbeatTimeout);
    }
  }

  /**
   * Hands a failure to the `OnRealtimeError` hooks. `make` builds it only when there is a hook, so refusals cost no
   * error object (and no stack) in apps without one.
   */
  report(make: () => RealtimeFailure): void {
    if (this.#onError.length === 0) {
      return;
    }
    const failure = make();
    for (const hook of this.#onError) {
      try {
        const done = hook.onRealtimeError(failure);
        if (done instanceof Promise) {
          done.catch((error: unknown) => this.#hookFailed(hook, 'onRealtimeError', error));
        }
      } catch (error) {
        this.#hookFailed(hook, 'onRealtimeError', error);
      }
    }
  }

  /** Runs the connect hooks, if any: the first that throws closes the connection, and the others do not run. */
  connected(connection: Connection): void {
    if (this.#onConnect.length > 0) {
      void this.#runConnected(connection);
    }
  }

  async #runConnected(connection: Connection): Promise<void> {
    for (const hook of this.#onConnect) {
      try {
        await hook.onRealtimeConnect(connection.view);
      } catch (error) {
        const { closeCode, reason, expected } = closeForException(error);
        const where = `${hook.constructor.name}.onRealtimeConnect`;
        if (expected) {
          this.#logger.debug(`[${connection.id}] ${where} refused the connection: ${closeCode} ${reason}`);
        } else {
          this.#logger.error(
            `[${connection.id}] ${where} failed; the connection is closed with ${closeCode}`,
            error instanceof Error ? error.stack : String(error),
          );
        }
        connection.close(closeCode, reason);
        this.report(
          () =>
            new RealtimeConnectionError(FailureCode.CONNECT_HOOK_FAILED, `${where} threw: ${describe(error)}`, {
              client: connection.view,
              closeCode,
              cause: error,
            }),
        );
        return;
      }
    }
  }

  async disconnected(connection: Connection, info: DisconnectInfo): Promise<void> {
    for (const hook of this.#onDisconnect) {
      try {
        await hook.onRealtimeDisconnect(connection.view, info);
      } catch (error) {
        this.#hookFailed(hook, 'onRealtimeDisconnect', error, connection);
      }
    }
  }

  /**
   * Asks the heartbeat-timeout hooks whether a silent connection may be closed: true unless one returns `false`.
   * Synchronous when there are no hooks.
   */
  mayCloseSilent(connection: Connection, silentMs: number): true | Promise<boolean> {
    if (this.#onHeartbeatTimeout.length === 0) {
      return true;
    }
    return this.#askHeartbeatTimeout(connection, silentMs);
  }

  async #askHeartbeatTimeout(connection: Connection, silentMs: number): Promise<boolean> {
    let close = true;
    for (const hook of this.#onHeartbeatTimeout) {
      try {
        if ((await hook.onRealtimeHeartbeatTimeout(connection.view, { silentMs })) === false) {
          close = false;
        }
      } catch (error) {
        this.#hookFailed(hook, 'onRealtimeHeartbeatTimeout', error, connection);
      }
    }
    return close;
  }

  #hookFailed(hook: object, method: string, error: unknown, connection?: Connection): void {
    this.#logger.error(
      `${connection === undefined ? '' : `[${connection.id}] `}${hook.constructor.name}.${method} failed`,
      error instanceof Error ? error.stack : String(error),
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
