import type { CorkableSocket } from '../internals/ws-internals.js';

/**
 * Turns bursts into fewer writes. An event-loop turn ends with a `setImmediate`. The first frame a socket gets in a
 * turn is written at once, so spread-out messages wait for nothing and cost nothing extra; from the second frame on,
 * the socket is corked, and those frames leave together, in one `writev`, when the turn ends. Each write is a syscall
 * (most of a delivery's cost), so a publisher's burst reaches every subscriber in two writes, not one per message.
 */
export class WriteCoalescer {
  #turn = 1;
  #ending = false;
  readonly #corked: CorkableSocket[] = [];
  readonly #endTurn = (): void => {
    this.#turn++;
    this.#ending = false;
    const corked = this.#corked.splice(0);
    for (const socket of corked) {
      socket.uncork();
    }
  };

  /** The current turn (it ends, and the number moves on, at the next `setImmediate`). */
  turn(): number {
    if (!this.#ending) {
      this.#ending = true;
      setImmediate(this.#endTurn);
    }
    return this.#turn;
  }

  /**
   * Called before each write to a socket with the turn of its previous write (0 for none); returns the turn to
   * remember for the next call.
   */
  beforeWrite(socket: CorkableSocket, lastTurn: number): number {
    const turn = this.#turn;
    if (lastTurn === turn) {
      // The second write this turn corks; later ones find it corked (remembered as the negative turn).
      socket.cork();
      this.#corked.push(socket);
      return -turn;
    }
    if (lastTurn === -turn) {
      return lastTurn;
    }
    if (!this.#ending) {
      this.#ending = true;
      setImmediate(this.#endTurn);
    }
    return turn;
  }
}
