import { describe, expect, it } from '@jest/globals';
import { WriteCoalescer } from '../../lib/connection/write-coalescer.js';
import type { CorkableSocket } from '../../lib/internals/ws-internals.js';

class FakeSocket implements CorkableSocket {
  corked = 0;
  uncorks = 0;
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    this.corked--;
    this.uncorks++;
  }
}

const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WriteCoalescer', () => {
  it('lets the first write of a turn through, corks from the second, and uncorks when the turn ends', async () => {
    const coalescer = new WriteCoalescer();
    const socket = new FakeSocket();
    let turn = coalescer.beforeWrite(socket, 0);
    expect(socket.corked).toBe(0);
    turn = coalescer.beforeWrite(socket, turn);
    turn = coalescer.beforeWrite(socket, turn);
    turn = coalescer.beforeWrite(socket, turn);
    expect(socket.corked).toBe(1);
    await turnEnd();
    expect(socket).toMatchObject({ corked: 0, uncorks: 1 });
    // A new turn: the first write goes straight out again.
    turn = coalescer.beforeWrite(socket, turn);
    expect(socket.corked).toBe(0);
    coalescer.beforeWrite(socket, turn);
    expect(socket.corked).toBe(1);
    await turnEnd();
    expect(socket).toMatchObject({ corked: 0, uncorks: 2 });
  });

  it('never corks sockets written once per turn', async () => {
    const coalescer = new WriteCoalescer();
    const sockets = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    const turns = sockets.map(() => 0);
    for (let round = 0; round < 3; round++) {
      sockets.forEach((socket, index) => (turns[index] = coalescer.beforeWrite(socket, turns[index])));
      await turnEnd();
    }
    expect(sockets.every((socket) => socket.corked === 0 && socket.uncorks === 0)).toBe(true);
  });
});
