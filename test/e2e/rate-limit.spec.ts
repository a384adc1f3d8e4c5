import { afterEach, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import {
  Channel,
  ErrorCode,
  OnMessage,
  RateLimit,
  type RateLimitRule,
  RealtimeModule,
  type RealtimeModuleOptions,
} from 'nestjs-realtime';
import { RateLimitStore, type RateLimitVerdict } from 'nestjs-realtime/backend';
import { appAroundSuite } from '../support/create-app.js';
import { redisInstancesAroundSuite } from '../support/suites.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { type Frame, TestClient } from '../support/test-client.js';
import { describeNeeding } from '../support/programs.js';

const open: TestClient[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

/** An app with these options and providers, started and closed around the tests of one `describe`. */
function appWith(options: RealtimeModuleOptions, providers: unknown[] = [], imports: unknown[] = []) {
  @Module({ imports: [...(imports as never[]), RealtimeModule.forRoot(options)], providers: providers as never[] })
  class RateLimitModule {}
  const holder = appAroundSuite(RateLimitModule);
  const connect = async (token?: string) => {
    const client = await TestClient.connect(holder.server.url, token === undefined ? {} : { token });
    open.push(client);
    return client;
  };
  return Object.assign(holder, { connect });
}

/** Sends `count` pings with ids and resolves to their answers, in order. */
async function pings(client: TestClient, count: number): Promise<Frame[]> {
  const answers: Promise<Frame>[] = [];
  for (let index = 0; index < count; index++) {
    answers.push(client.request({ type: 'ping' }));
  }
  return Promise.all(answers);
}

const types = (frames: Frame[]) => frames.map((frame) => frame.type);

describe('the module-wide rate limit on frames', () => {
  @Channel('room:{id}', { public: true, whispers: true })
  class RoomChannel {}

  const app = appWith({ authenticate: tokenIsUserId, rateLimit: { limit: 5, windowMs: 60_000, closeAfter: 0 } }, [
    RoomChannel,
  ]);

  it('answers frames past the limit with RATE_LIMITED and retryAfterMs, and keeps the connection', async () => {
    const alice = await app.connect('alice');
    const answers = await pings(alice, 8);
    expect(types(answers)).toEqual(['pong', 'pong', 'pong', 'pong', 'pong', 'error', 'error', 'error']);
    expect(answers[5]).toEqual({
      type: 'error',
      replyTo: expect.anything(),
      error: {
        code: ErrorCode.RATE_LIMITED,
        message: 'Rate limit exceeded: at most 5 frames per 60000 ms',
        details: { retryAfterMs: expect.any(Number) },
      },
    });
    const { retryAfterMs } = answers[5].error!.details as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(12_000);
    expect(alice.socket.readyState).toBe(alice.socket.OPEN);
  });

  it('counts every frame: control frames, whispers and malformed ones', async () => {
    const bob = await app.connect('bob');
    await bob.subscribe('room:1');
    bob.send({ type: 'whisper', channel: 'room:1', event: 'typing' });
    bob.send('not json');
    bob.send({ type: 'no-such-type' });
    await bob.nextOfType('error');
    await bob.nextOfType('error');
    expect(types(await pings(bob, 2))).toEqual(['pong', 'error']);
  });

  it("shares one bucket between a user's devices, not with other users", async () => {
    const phone = await app.connect('carol');
    const laptop = await app.connect('carol');
    expect(types(await pings(phone, 5))).toEqual(['pong', 'pong', 'pong', 'pong', 'pong']);
    expect(types(await pings(laptop, 1))).toEqual(['error']);
    const dave = await app.connect('dave');
    expect(types(await pings(dave, 1))).toEqual(['pong']);
  });
});

describe('anonymous connections', () => {
  const app = appWith({ rateLimit: { limit: 2, windowMs: 60_000, closeAfter: 0 } });

  it('each have their own bucket', async () => {
    const first = await app.connect();
    const second = await app.connect();
    expect(types(await pings(first, 3))).toEqual(['pong', 'pong', 'error']);
    expect(types(await pings(second, 2))).toEqual(['pong', 'pong']);
  });
});

describe('sustained abuse', () => {
  const app = appWith({ authenticate: tokenIsUserId, rateLimit: { limit: 2, windowMs: 60_000, closeAfter: 3 } });

  it('closes a connection refused closeAfter times within a window with 1008', async () => {
    const mallory = await app.connect('mallory');
    for (let index = 0; index < 10; index++) {
      mallory.send({ type: 'ping' });
    }
    expect(await mallory.closed).toEqual({ code: 1008, reason: 'Rate limit exceeded' });
    expect(mallory.pending((frame) => frame.type === 'pong')).toHaveLength(2);
    expect(mallory.pending((frame) => frame.error?.code === ErrorCode.RATE_LIMITED)).toHaveLength(3);
    expect(app.server.logger.find('warn', 'closed for exceeding the rate limit 3 times')).toBeDefined();
  });
});

describeNeeding('redis-server')('the frame limit across instances, with sharedRateLimits on one Redis', () => {
  const suite = redisInstancesAroundSuite(
    2,
    { authenticate: tokenIsUserId, rateLimit: { limit: 5, windowMs: 60_000, closeAfter: 0 } },
    [],
    { sharedRateLimits: true },
  );

  it("counts a user's frames on every instance against one bucket", async () => {
    const phone = await suite.connect(0, 'alice');
    const laptop = await suite.connect(1, 'alice');
    expect(types(await pings(phone, 3))).toEqual(['pong', 'pong', 'pong']);
    expect(types(await pings(laptop, 3))).toEqual(['pong', 'pong', 'error']);
    const bob = await suite.connect(1, 'bob');
    expect(types(await pings(bob, 1))).toEqual(['pong']);
  });
});

describe('@RateLimit on handlers and classes', () => {
  @RateLimit({ limit: 1, windowMs: 60_000 })
  @Channel('limited:{id}', { public: true })
  class LimitedChannel {
    @RateLimit({ limit: 3, windowMs: 60_000 })
    @OnMessage('generous')
    generous(): string {
      return 'ok';
    }

    @OnMessage('strict')
    strict(): string {
      return 'ok';
    }

    @RateLimit({ limit: 2, windowMs: 60_000 })
    @OnMessage('twice')
    twice(): string {
      return 'ok';
    }
  }

  @Channel()
  class GlobalHandlers {
    @RateLimit({ limit: 2, windowMs: 60_000 })
    @OnMessage('search')
    search(): string {
      return 'found';
    }

    @OnMessage('free')
    free(): string {
      return 'free';
    }
  }

  const app = appWith({ authenticate: tokenIsUserId, rateLimit: false }, [LimitedChannel, GlobalHandlers]);

  const send = async (client: TestClient, type: string, count: number, channel?: string) => {
    const answers: Frame[] = [];
    for (let index = 0; index < count; index++) {
      answers.push(await client.request({ type, channel }));
    }
    return answers.map((frame) => frame.error?.code ?? frame.type);
  };

  it("limits a handler by its own rule, per user, with the error's retryAfterMs", async () => {
    const alice = await app.connect('alice');
    expect(await send(alice, 'search', 3)).toEqual(['ack', 'ack', ErrorCode.RATE_LIMITED]);
    const refused = await alice.request({ type: 'search' });
    expect(refused.error).toEqual({
      code: ErrorCode.RATE_LIMITED,
      message: 'Rate limit exceeded: at most 2 per 60000 ms',
      details: { retryAfterMs: expect.any(Number) },
    });
    expect(await send(alice, 'free', 3)).toEqual(['ack', 'ack', 'ack']);
    const bob = await app.connect('bob');
    expect(await send(bob, 'search', 1)).toEqual(['ack']);
  });

  it("applies the class's rule to its join check and handlers; a method's own rule wins", async () => {
    const carol = await app.connect('carol');
    expect((await carol.subscribe('limited:1')).type).toBe('subscribed');
    expect((await carol.subscribe('limited:2')).error?.code).toBe(ErrorCode.RATE_LIMITED);
    expect(await send(carol, 'strict', 2, 'limited:1')).toEqual(['ack', ErrorCode.RATE_LIMITED]);
    expect(await send(carol, 'generous', 4, 'limited:1')).toEqual(['ack', 'ack', 'ack', ErrorCode.RATE_LIMITED]);
  });

  it('counts a message once when the class and the method both carry the guard', async () => {
    const dave = await app.connect('dave');
    await dave.subscribe('limited:3');
    expect(await send(dave, 'twice', 3, 'limited:3')).toEqual(['ack', 'ack', ErrorCode.RATE_LIMITED]);
  });

  it('rejects a bad rule when the class is declared', () => {
    expect(() => RateLimit({ limit: 0, windowMs: 1000 })).toThrow('"@RateLimit.limit": expected an integer from 1');
    expect(() => RateLimit({ limit: 1 } as RateLimitRule)).toThrow('"@RateLimit.windowMs"');
  });
});

// @nestjs/throttler 6 is CommonJS and requires the ESM @nestjs/common, which Jest cannot load on Node 20: the
// throttler's WebSocket recipe runs in test/compat/nest11-app.cjs instead, with a real client.

describe('a rate-limit store that fails: rate limits fail open, the frame limit and @RateLimit alike', () => {
  class FlakyStore extends RateLimitStore {
    failing = true;
    consume(): Promise<RateLimitVerdict> {
      return this.failing
        ? Promise.reject(new Error('limits store is down'))
        : Promise.resolve({ allowed: true, retryAfterMs: 0 });
    }
    close(): Promise<void> {
      return Promise.resolve();
    }
  }

  @Channel()
  class Search {
    @RateLimit({ limit: 1, windowMs: 60_000 })
    @OnMessage('search')
    search(): string {
      return 'found';
    }
  }

  const store = new FlakyStore();
  const app = appWith({ authenticate: tokenIsUserId, rateLimitStore: store }, [Search]);

  it('lets frames and limited handlers through, logs the outage once, and logs when the store answers again', async () => {
    const alice = await app.connect('alice');
    expect(types(await pings(alice, 2))).toEqual(['pong', 'pong']);
    for (let i = 0; i < 3; i++) {
      expect(await alice.request({ type: 'search', payload: {} })).toMatchObject({ type: 'ack', payload: 'found' });
    }
    expect(
      app.server.logger.entries.filter((entry) => entry.message.includes('The rate-limit store failed')),
    ).toHaveLength(1);
    store.failing = false;
    expect(types(await pings(alice, 1))).toEqual(['pong']);
    expect(
      app.server.logger.find('log', 'The rate-limit store answers again; 8 checks were let through'),
    ).toBeDefined();
  });
});
