import { Duplex } from 'node:stream';

/**
 * One end of an in-memory connection: what one end writes, the other end reads, with backpressure (a write completes
 * once the other end has room, so a reader that stops reading backs the writer up as a slow TCP peer would). Enough
 * of a `net.Socket` for Node's HTTP server and `ws` on both ends.
 */
export class MemorySocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort = 0;
  readonly remoteFamily = 'IPv4';
  #peer: MemorySocket | undefined;
  /** A write waiting for the other end to read (it pushed past its buffer). */
  #blockedWrite: (() => void) | undefined;

  private constructor(remoteAddress: string) {
    super({ allowHalfOpen: false });
    this.remoteAddress = remoteAddress;
  }

  /** Two connected ends; the server's end reports `clientAddress` as its peer's address. */
  static pair(clientAddress: string): { client: MemorySocket; server: MemorySocket } {
    const client = new MemorySocket('127.0.0.1');
    const server = new MemorySocket(clientAddress);
    client.#peer = server;
    server.#peer = client;
    return { client, server };
  }

  override _read(): void {
    const peer = this.#peer;
    const write = peer === undefined ? undefined : peer.#blockedWrite;
    if (write !== undefined) {
      peer!.#blockedWrite = undefined;
      write();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Delivered on the next tick, never inside the write: a TCP peer never reacts within the sender's call (ws
    // answers a close frame from inside its own close() otherwise, and leaks a close timer).
    process.nextTick(() => {
      const peer = this.#peer!;
      if (peer.destroyed || peer.push(chunk)) {
        callback();
      } else {
        this.#blockedWrite = callback;
      }
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    process.nextTick(() => {
      if (!this.#peer!.destroyed) {
        this.#peer!.push(null);
      }
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.#peer;
    if (peer !== undefined && !peer.destroyed) {
      peer.destroy();
    }
    callback(error);
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
