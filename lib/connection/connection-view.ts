import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';
import type { Connection } from './connection.js';

/**
 * What user code holds of a connection: every field read through to the live connection, nothing that writes to
 * the socket or changes its state (`deliver`, `terminate`, `hold`, `handling` stay internal). One per connection.
 */
export class ConnectionView implements RealtimeConnection {
  readonly #connection: Connection;

  constructor(connection: Connection) {
    this.#connection = connection;
  }

  get id(): string {
    return this.#connection.id;
  }

  get userId(): string | null {
    return this.#connection.userId;
  }

  get metadata(): Readonly<Record<string, unknown>> {
    return this.#connection.metadata;
  }

  setMetadata(patch: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
    return this.#connection.setMetadata(patch);
  }

  get info(): Readonly<Record<string, unknown>> {
    return this.#connection.info;
  }

  get remoteAddress(): string {
    return this.#connection.remoteAddress;
  }

  get connectedAt(): Date {
    return this.#connection.connectedAt;
  }

  get protocol(): string {
    return this.#connection.protocol;
  }

  get channels(): readonly string[] {
    return this.#connection.channels;
  }

  isSubscribed(channel: string): boolean {
    return this.#connection.isSubscribed(channel);
  }

  get rttMs(): number | undefined {
    return this.#connection.rttMs;
  }

  get expiresAt(): number | undefined {
    return this.#connection.expiresAt;
  }

  get bufferedBytes(): number {
    return this.#connection.bufferedBytes;
  }

  /** Fields only, for logs and `console.log`. */
  toJSON(): Record<string, unknown> {
    const { id, userId, metadata, info, remoteAddress, connectedAt, protocol, channels } = this;
    return { id, userId, metadata, info, remoteAddress, connectedAt, protocol, channels };
  }
}
