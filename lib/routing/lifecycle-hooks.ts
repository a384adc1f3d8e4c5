import { Injectable, Logger } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import type { DisconnectInfo, OnRealtimeConnect, OnRealtimeDisconnect } from '../interfaces/lifecycle.interface.js';

/** The providers implementing `OnRealtimeConnect` / `OnRealtimeDisconnect`, called in discovery order. */
@Injectable()
export class LifecycleHooks {
  readonly #logger = new Logger('RealtimeModule');
  readonly #onConnect: OnRealtimeConnect[] = [];
  readonly #onDisconnect: OnRealtimeDisconnect[] = [];

  register(instance: object): void {
    if (typeof (instance as Partial<OnRealtimeConnect>).onRealtimeConnect === 'function') {
      this.#onConnect.push(instance as OnRealtimeConnect);
    }
    if (typeof (instance as Partial<OnRealtimeDisconnect>).onRealtimeDisconnect === 'function') {
      this.#onDisconnect.push(instance as OnRealtimeDisconnect);
    }
  }

  /** Runs the connect hooks, if any: a failing hook is logged and does not stop the others nor the connection. */
  connected(connection: Connection): void {
    if (this.#onConnect.length > 0) {
      void this.#runConnected(connection);
    }
  }

  async #runConnected(connection: Connection): Promise<void> {
    for (const hook of this.#onConnect) {
      try {
        await hook.onRealtimeConnect(connection);
      } catch (error) {
        this.#logger.error(
          `[${connection.id}] ${hook.constructor.name}.onRealtimeConnect failed`,
          error instanceof Error ? error.stack : String(error),
        );
      }
    }
  }

  async disconnected(connection: Connection, info: DisconnectInfo): Promise<void> {
    for (const hook of this.#onDisconnect) {
      try {
        await hook.onRealtimeDisconnect(connection, info);
      } catch (error) {
        this.#logger.error(
          `[${connection.id}] ${hook.constructor.name}.onRealtimeDisconnect failed`,
          error instanceof Error ? error.stack : String(error),
        );
      }
    }
  }
}
