// The testing kit under Vitest, on native ESM, as an app would use it: plain JavaScript against the built package
// (decorators applied as functions), Vitest's fake timers driving the server's clock.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Channel, ConnectedClient, OnMessage, Payload, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { RealtimeTesting } from 'nestjs-realtime/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

class Room {
  canJoin(client) {
    return client.userId !== 'mallory';
  }

  echo(payload, client) {
    return { echoed: payload, by: client.userId };
  }
}
Payload()(Room.prototype, 'echo', 0);
ConnectedClient()(Room.prototype, 'echo', 1);
OnMessage('echo')(Room.prototype, 'echo', Object.getOwnPropertyDescriptor(Room.prototype, 'echo'));
Channel('room:{id}', { presence: true })(Room);

class AppModule {}
Module({ imports: [RealtimeModule.forRoot({ path: '/live' })], providers: [Room] })(AppModule);

describe.each(['in-process', 'socket'])('nestjs-realtime/testing under Vitest, %s', (transport) => {
  let rt;

  afterEach(async () => {
    await rt?.close();
    vi.useRealTimers();
  });

  async function start() {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    rt = await RealtimeTesting.create(moduleRef, { transport });
  }

  it('subscribes, requests and expects', async () => {
    await start();
    const alice = await rt.connect({ userId: 'alice' });
    await expect(alice.subscribe('room:1')).resolves.toMatchObject({ memberCount: 1 });
    await expect(alice.request('echo', { n: 1 }, { channel: 'room:1' })).resolves.toEqual({
      echoed: { n: 1 },
      by: 'alice',
    });
    const mallory = await rt.connect({ userId: 'mallory' });
    await expect(mallory.subscribe('room:1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it("moves the server's clock with Vitest's fake timers", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    await start();
    const alice = await rt.connect({ userId: 'alice' });
    await alice.subscribe('room:2');
    rt.app.get(RealtimeService).publishBatched('room:2', 'k', { type: 'tick', payload: 1 }, { windowMs: 10_000 });
    await alice.expectNoMessage('batch');
    await vi.advanceTimersByTimeAsync(10_000);
    await alice.expectMessage('batch');
  });
});
