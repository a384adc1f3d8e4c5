import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Channel, OnMessage, Payload } from 'nestjs-realtime';
import { RealtimeModule } from 'nestjs-realtime';
import { type TestApp, startApp } from '../support/create-app.js';
import { EventLog } from '../support/event-log.js';
import { type Frame, TestClient } from '../support/test-client.js';

/** A gate a handler waits on until the test opens it. */
class Gate {
  static entered = new EventLog<string>();
  static #open: (() => void) | undefined;
  static #opened = new Promise<void>((resolve) => (Gate.#open = resolve));

  static wait(label: string): Promise<void> {
    Gate.entered.push(label);
    return Gate.#opened;
  }

  static open(): void {
    Gate.#open?.();
  }
}

async function ticks(count: number): Promise<void> {
  for (let tick = 0; tick < count; tick++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

@Channel('room:{id}', { public: true })
class Room {
  @OnMessage('say')
  say(@Payload() text: string) {
    return text;
  }
}

@Channel()
class Work {
  @OnMessage('slow')
  async slow(@Payload() label: string) {
    await ticks(20);
    return label;
  }

  @OnMessage('fast')
  fast(@Payload() label: string) {
    return label;
  }

  @OnMessage('gate')
  async gate(@Payload() label: string) {
    await Gate.wait(label);
    return label;
  }
}

// Pipelines hundreds of frames at once: the module-wide rate limit would refuse most of them.
@Module({ imports: [RealtimeModule.forRoot({ rateLimit: false })], providers: [Room, Work] })
class OrderingModule {}

describe('frames of one connection are handled in arrival order', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp(OrderingModule);
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('lets a client send to a channel right after subscribing, without waiting', async () => {
    const client = await TestClient.connect(server.url);
    client.send({ type: 'subscribe', channel: 'room:1', id: 's' });
    client.send({ type: 'say', channel: 'room:1', payload: 'right away', id: 'm' });
    expect((await client.next((frame) => frame.replyTo === 'm')).payload).toBe('right away');
    await client.close();
  });

  it('acks a fast frame after a slow one sent before it', async () => {
    const client = await TestClient.connect(server.url);
    const order: string[] = [];
    const done = Promise.all(
      ['a', 'b'].map((id) => client.next((frame: Frame) => frame.replyTo === id).then(() => order.push(id))),
    );
    client.send({ type: 'slow', payload: 'first', id: 'a' });
    client.send({ type: 'fast', payload: 'second', id: 'b' });
    await done;
    expect(order).toEqual(['a', 'b']);
    await client.close();
  });

  it('keeps every frame pipelined behind a stuck handler, and answers them in order', async () => {
    const client = await TestClient.connect(server.url);
    client.send({ type: 'gate', payload: 'stuck', id: 0 });
    await Gate.entered.waitFor((label) => label === 'stuck');
    const count = 300;
    for (let index = 1; index <= count; index++) {
      client.send({ type: 'fast', payload: `n${index}`, id: index });
    }
    // Other connections are not held up by this one's backlog.
    const other = await TestClient.connect(server.url);
    expect((await other.request({ type: 'fast', payload: 'free' })).payload).toBe('free');
    Gate.open();
    const replies: unknown[] = [];
    for (let index = 0; index <= count; index++) {
      replies.push((await client.nextOfType('ack')).replyTo);
    }
    expect(replies).toEqual(Array.from({ length: count + 1 }, (_, index) => index));
    await other.close();
    await client.close();
  });
});
