import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  Injectable,
  type INestApplication,
  type INestApplicationContext,
  Module,
  type NestInterceptor,
  Scope,
  ValidationPipe,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { IsInt } from 'class-validator';
import { map, type Observable } from 'rxjs';
import { WebSocket } from 'ws';
import {
  Channel,
  type ChannelOptions,
  ConnectedClient,
  ErrorCode,
  getHandshakeToken,
  OnMessage,
  Payload,
  type RealtimeAuthenticator,
  type RealtimeConnection,
  RealtimeModule,
  type RealtimeModuleOptions,
  type RealtimeOptionsFactory,
  RealtimeService,
} from 'nestjs-realtime';
import { PLATFORMS, type TestApp, startApp } from '../support/create-app.js';
import { TestClient } from '../support/test-client.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) {
    await close();
  }
});

async function start(
  module: Parameters<typeof startApp>[0],
  ...rest: Parameters<typeof startApp> extends [unknown, ...infer R] ? R : never
) {
  const server = await startApp(module, ...rest);
  closers.push(() => server.app.close());
  return server;
}

async function connect(url: string, token?: string): Promise<TestClient> {
  const client = await TestClient.connect(url, { token });
  closers.push(() => client.close());
  return client;
}

/** Boots a module and returns the error that stopped it. */
async function bootError(module: Parameters<typeof startApp>[0]): Promise<Error> {
  try {
    const app = await NestFactory.create(module, { logger: false, abortOnError: false });
    closers.push(() => app.close());
    await app.init();
  } catch (error) {
    return error as Error;
  }
  throw new Error('The app started');
}

@Injectable()
class TokenStore {
  readonly users = new Map([['t-ivy', 'ivy']]);
}

@Injectable()
class StoreAuthenticator implements RealtimeAuthenticator {
  constructor(private readonly store: TokenStore) {}
  authenticate(request: IncomingMessage) {
    const user = this.store.users.get(getHandshakeToken(request) ?? '');
    return user ? { userId: user, metadata: { via: 'store' } } : null;
  }
}

@Channel()
class WhoAmI {
  @OnMessage('whoami')
  who(@ConnectedClient() client: RealtimeConnection) {
    return { userId: client.userId, metadata: client.metadata };
  }
}

describe('options', () => {
  it.each<[string, RealtimeModuleOptions, string]>([
    ['path', { path: 'realtime' }, 'Invalid RealtimeModule option "path"'],
    ['port', { port: 70000 }, 'Invalid RealtimeModule option "port"'],
    ['heartbeatIntervalMs', { heartbeatIntervalMs: -1 }, 'Invalid RealtimeModule option "heartbeatIntervalMs"'],
    ['heartbeat order', { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 50 }, '"heartbeatTimeoutMs": must be greater'],
    ['maxPayloadBytes', { maxPayloadBytes: 1.5 }, 'Invalid RealtimeModule option "maxPayloadBytes"'],
    ['authenticate', { authenticate: 'jwt' as never }, 'Invalid RealtimeModule option "authenticate"'],
    ['broker', { broker: {} as never }, 'Invalid RealtimeModule option "broker"'],
    ['a typo', { heartbeatInterval: 5 } as never, 'Unknown RealtimeModule option "heartbeatInterval"'],
  ])('fails the boot naming a bad %s', async (_case, options, message) => {
    @Module({ imports: [RealtimeModule.forRoot(options)] })
    class BadOptionsModule {}
    expect((await bootError(BadOptionsModule)).message).toContain(message);
  });

  it('validates what forRootAsync factories return', async () => {
    @Module({ imports: [RealtimeModule.forRootAsync({ useFactory: () => ({ drainTimeoutMs: -5 }) })] })
    class BadAsyncModule {}
    expect((await bootError(BadAsyncModule)).message).toContain('"drainTimeoutMs"');
  });
});

describe('forRootAsync', () => {
  @Injectable()
  class Settings {
    readonly path = '/live';
  }

  @Module({
    providers: [Settings, TokenStore, StoreAuthenticator],
    exports: [Settings, TokenStore, StoreAuthenticator],
  })
  class SettingsModule {}

  it('takes options from a factory with injected providers', async () => {
    @Module({
      imports: [
        SettingsModule,
        RealtimeModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({ path: settings.path, authenticate: StoreAuthenticator }),
        }),
      ],
    })
    class AsyncFactoryModule {}
    const server = await start(AsyncFactoryModule);
    const client = await TestClient.connect(server.url, { token: 't-ivy', path: '/live' });
    closers.push(() => client.close());
    expect(client.welcome.payload).toMatchObject({ userId: 'ivy' });
  });

  it('takes options from a class', async () => {
    @Injectable()
    class RealtimeConfig implements RealtimeOptionsFactory {
      createRealtimeOptions(): RealtimeModuleOptions {
        return { path: '/from-class' };
      }
    }
    @Module({ imports: [RealtimeModule.forRootAsync({ useClass: RealtimeConfig })] })
    class AsyncClassModule {}
    const server = await start(AsyncClassModule);
    const client = await TestClient.connect(server.url, { path: '/from-class' });
    closers.push(() => client.close());
    expect(client.welcome.type).toBe('system:welcome');
  });
});

describe('authentication', () => {
  it('resolves an authenticator class from the app providers, with its dependencies', async () => {
    @Module({
      imports: [RealtimeModule.forRoot({ authenticate: StoreAuthenticator })],
      providers: [TokenStore, StoreAuthenticator, WhoAmI],
    })
    class ClassAuthModule {}
    const server = await start(ClassAuthModule);
    expect((await TestClient.refusal(server.url, { token: 't-nobody' })).status).toBe(401);
    const client = await connect(server.url, 't-ivy');
    const me = await client.request({ type: 'whoami' });
    expect(me.payload).toMatchObject({ userId: 'ivy', metadata: { via: 'store' } });
  });

  it('fails the boot when the authenticator class cannot be created', async () => {
    @Module({ imports: [RealtimeModule.forRoot({ authenticate: StoreAuthenticator })] })
    class UnresolvableAuthModule {}
    expect((await bootError(UnresolvableAuthModule)).message).toContain('StoreAuthenticator could not be created');
  });

  it('refuses with 401 and logs an authenticator that returns no valid user id', async () => {
    @Module({ imports: [RealtimeModule.forRoot({ authenticate: () => ({ userId: '' }) })] })
    class BrokenAuthModule {}
    const server = await start(BrokenAuthModule);
    expect((await TestClient.refusal(server.url)).status).toBe(401);
    expect(server.logger.find('error', 'no valid userId')).toBeDefined();
  });

  it('accepts anonymous connections without an authenticator, and says so at boot', async () => {
    @Module({ imports: [RealtimeModule.forRoot()] })
    class AnonymousModule {}
    const server = await start(AnonymousModule);
    expect(server.logger.find('warn', 'every realtime connection is anonymous')).toBeDefined();
    const client = await connect(server.url);
    expect(client.welcome.payload).toMatchObject({ userId: null });
  });
});

describe('boot errors in handler classes', () => {
  it('fails naming both handlers of one route', async () => {
    @Channel()
    class First {
      @OnMessage('dup')
      one() {}
    }
    @Channel()
    class Second {
      @OnMessage('dup')
      two() {}
    }
    @Module({ imports: [RealtimeModule.forRoot()], providers: [First, Second] })
    class DuplicateModule {}
    const error = await bootError(DuplicateModule);
    expect(error.message).toContain('"dup"');
    expect(error.message).toContain('First.one');
    expect(error.message).toContain('Second.two');
  });

  it('fails naming two classes that declare the same channels', async () => {
    @Channel('room:{id}', { public: true })
    class RoomA {}
    @Channel('room:*', { public: true })
    class RoomB {}
    @Module({ imports: [RealtimeModule.forRoot()], providers: [RoomA, RoomB] })
    class SamePatternModule {}
    const error = await bootError(SamePatternModule);
    expect(error.message).toMatch(/RoomA.*RoomB|RoomB.*RoomA/);
  });

  it('fails on a request-scoped channel class', async () => {
    @Injectable({ scope: Scope.REQUEST })
    @Channel('scoped:{id}', { public: true })
    class ScopedChannel {}
    @Module({ imports: [RealtimeModule.forRoot()], providers: [ScopedChannel] })
    class ScopedModule {}
    expect((await bootError(ScopedModule)).message).toContain('ScopedChannel must be a singleton');
  });

  it('rejects bad decorator arguments when the class is declared', () => {
    expect(() => Channel('room:{id}:{id}')).toThrow('parameter "{id}" appears twice');
    expect(() => Channel('room::x')).toThrow('Invalid channel pattern');
    expect(() => OnMessage('subscribe')).toThrow('control frame type');
    expect(() => OnMessage('has space')).toThrow('@OnMessage("has space")');
  });

  it.each([
    [
      { presence: 'yes' },
      '@Channel("room:{id}") options: "presence" must be a boolean or { maxAnnounced?, diffIntervalMs?, countIntervalMs? }, got "yes"',
    ],
    [{ presence: { maxAnnounced: -1 } }, '"presence.maxAnnounced" must be an integer from 0 to 10000, got -1'],
    [{ presence: { batch: 1 } }, 'unknown presence option "batch"'],
    [{ whispers: 1 }, '"whispers" must be a boolean, got 1'],
    [{ histroy: 10 }, 'unknown option "histroy". Known options: presence, history, whispers'],
    [{ history: 0 }, '"history" must be true, an integer from 1 to 10000 or { size, ttlMs?, replayOnJoin? }, got 0'],
    [{ history: 10_001 }, '"history" must be true, an integer from 1 to 10000'],
    [{ history: { size: 1.5 } }, '"history.size" must be an integer from 1 to 10000, got 1.5'],
    [{ history: { size: 10, ttlMs: -1 } }, '"history.ttlMs" must be an integer number of milliseconds'],
    [
      { history: { size: 10, replayOnJoin: 11 } },
      '"history.replayOnJoin" must be an integer from 0 to history.size (10)',
    ],
    [{ history: { size: 10, keep: 1 } }, 'unknown history option "keep"'],
    [[], 'expected an object, got an array'],
  ])('rejects channel options %j naming the option', (options, message) => {
    expect(() => Channel('room:{id}', options as ChannelOptions)).toThrow(message);
  });

  it('rejects channel options without a pattern', () => {
    expect(() => Channel(undefined, { presence: true })).toThrow('@Channel() options need a channel pattern');
  });

  it('fails naming a class whose onWhisper would never run', async () => {
    @Channel('mute:{id}', { public: true })
    class MuteChannel {
      onWhisper(): boolean {
        return true;
      }
    }
    @Module({ imports: [RealtimeModule.forRoot()], providers: [MuteChannel] })
    class MuteModule {}
    expect((await bootError(MuteModule)).message).toBe(
      'MuteChannel.onWhisper is never called: @Channel("mute:{id}") does not enable whispers (add { whispers: true })',
    );
  });
});

describe('own port', () => {
  @Channel()
  class Echo {
    @OnMessage('echo')
    echo(@Payload() payload: unknown) {
      return payload;
    }
  }

  it('serves on its own port in an application context without HTTP server', async () => {
    @Module({ imports: [RealtimeModule.forRoot({ port: 0, host: '127.0.0.1' })], providers: [Echo] })
    class StandaloneModule {}
    const app: INestApplicationContext = await NestFactory.createApplicationContext(StandaloneModule, {
      logger: false,
    });
    await app.init();
    closers.push(() => app.close());
    const address = app.get(RealtimeService).getAddress();
    expect(address?.port).toBeGreaterThan(0);
    const client = await connect(`http://127.0.0.1:${address?.port}`);
    expect((await client.request({ type: 'echo', payload: 'standalone' })).payload).toBe('standalone');
    const response = await fetch(`http://127.0.0.1:${address?.port}/`);
    expect(response.status).toBe(426);
  });

  it('fails the boot in an application context without a port', async () => {
    @Module({ imports: [RealtimeModule.forRoot()] })
    class NoServerModule {}
    await expect(async () => {
      const app = await NestFactory.createApplicationContext(NoServerModule, { logger: false, abortOnError: false });
      closers.push(() => app.close());
      await app.init();
    }).rejects.toThrow('set the "port" option');
  });
});

describe.each(PLATFORMS)('alongside a platform-ws gateway (%s)', (platform) => {
  @WebSocketGateway({ path: '/legacy' })
  class LegacyGateway {
    @SubscribeMessage('hello')
    hello(@MessageBody() name: string) {
      return { event: 'hello', data: `hello ${name}` };
    }
  }

  @Channel()
  class Echo {
    @OnMessage('echo')
    echo(@Payload() payload: unknown) {
      return payload;
    }
  }

  @Module({ imports: [RealtimeModule.forRoot()], providers: [LegacyGateway, Echo] })
  class CoexistModule {}

  it('keeps both endpoints working on one HTTP server', async () => {
    const server: TestApp = await start(CoexistModule, platform, (app) => {
      app.useWebSocketAdapter(new WsAdapter(app));
    });
    const realtime = await connect(server.url);
    const legacy = new WebSocket(new URL('/legacy', server.url.replace('http', 'ws')));
    closers.push(() => Promise.resolve(legacy.close()));
    await new Promise((resolve, reject) => {
      legacy.once('open', resolve);
      legacy.once('error', reject);
    });
    const answer = new Promise<string>((resolve) => legacy.once('message', (data: Buffer) => resolve(data.toString())));
    legacy.send(JSON.stringify({ event: 'hello', data: 'nest' }));
    expect(JSON.parse(await answer)).toEqual({ event: 'hello', data: 'hello nest' });
    expect((await realtime.request({ type: 'echo', payload: 'both' })).payload).toBe('both');
    const second = await connect(server.url);
    expect(second.welcome.type).toBe('system:welcome');
  });
});

describe.each(PLATFORMS)('global enhancers (%s)', (platform) => {
  class CountDto {
    @IsInt()
    count!: number;
  }

  @Injectable()
  class BlockListGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      return context.switchToWs().getClient<RealtimeConnection>().userId !== 'mallory';
    }
  }

  class ShoutFilter implements ExceptionFilter {
    catch(exception: Error): unknown {
      return exception.message === 'shout' ? { filtered: 'SHOUT' } : undefined;
    }
  }

  class TagInterceptor implements NestInterceptor {
    intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
      return next.handle().pipe(map((value: unknown) => ({ tagged: value })));
    }
  }

  @Channel()
  class Counter {
    @OnMessage('count')
    count(@Payload() body: CountDto) {
      return body.count + 1;
    }

    @OnMessage('shout')
    shout(): never {
      throw new Error('shout');
    }
  }

  @Module({
    imports: [
      RealtimeModule.forRoot({ authenticate: (request) => ({ userId: getHandshakeToken(request) ?? 'anon' }) }),
    ],
    providers: [Counter, { provide: APP_GUARD, useClass: BlockListGuard }],
  })
  class GlobalsModule {}

  it('runs APP_GUARD, useGlobalPipes, useGlobalInterceptors and useGlobalFilters on realtime handlers', async () => {
    const server = await start(GlobalsModule, platform, (app) => {
      app.useGlobalPipes(new ValidationPipe());
      app.useGlobalInterceptors(new TagInterceptor());
      app.useGlobalFilters(new ShoutFilter());
    });
    const alice = await connect(server.url, 'alice');
    expect((await alice.request({ type: 'count', payload: { count: 1 } })).payload).toEqual({ tagged: 2 });
    const invalid = await alice.request({ type: 'count', payload: { count: 'one' } });
    expect(invalid.error?.code).toBe(ErrorCode.VALIDATION_FAILED);
    const mallory = await connect(server.url, 'mallory');
    expect((await mallory.request({ type: 'count', payload: { count: 1 } })).error?.code).toBe(ErrorCode.FORBIDDEN);
    expect((await alice.request({ type: 'shout' })).payload).toEqual({ filtered: 'SHOUT' });
  });

  @Module({
    imports: [
      RealtimeModule.forRoot({ authenticate: (request) => ({ userId: getHandshakeToken(request) ?? 'anon' }) }),
    ],
    providers: [Counter],
  })
  class BareModule {}

  // A handler with no enhancer of its own is called directly when the app has none either: each kind of global
  // enhancer alone must still be applied.
  it.each([
    [
      'useGlobalGuards',
      (app: INestApplication): void => void app.useGlobalGuards(new BlockListGuard()),
      'mallory',
      1,
      'FORBIDDEN',
    ],
    [
      'useGlobalPipes',
      (app: INestApplication): void => void app.useGlobalPipes(new ValidationPipe()),
      'alice',
      'one',
      'VALIDATION_FAILED',
    ],
    [
      'useGlobalInterceptors',
      (app: INestApplication): void => void app.useGlobalInterceptors(new TagInterceptor()),
      'alice',
      1,
      { tagged: 2 },
    ],
    [
      'useGlobalFilters',
      (app: INestApplication): void => void app.useGlobalFilters(new ShoutFilter()),
      'alice',
      'shout',
      { filtered: 'SHOUT' },
    ],
  ] as const)('applies %s alone', async (_name, configure, user, count, expected) => {
    const server = await start(BareModule, platform, configure);
    const client = await connect(server.url, user);
    const reply =
      count === 'shout'
        ? await client.request({ type: 'shout' })
        : await client.request({ type: 'count', payload: { count } });
    if (typeof expected === 'string') {
      expect(reply.error?.code).toBe(expected);
    } else {
      expect(reply.payload).toEqual(expected);
    }
  });
});

describe('several apps in one process', () => {
  it('do not see each other', async () => {
    @Channel()
    class Count {
      @OnMessage('count')
      count(client: RealtimeConnection) {
        return client.id;
      }
    }
    @Module({ imports: [RealtimeModule.forRoot()], providers: [Count] })
    class TwinModule {}
    const first = await start(TwinModule);
    const second = await start(TwinModule);
    const one = await connect(first.url);
    await connect(second.url);
    await connect(second.url);
    expect(
      first.app
        .get(RealtimeService)
        .getConnections()
        .map((client) => client.id),
    ).toEqual([one.connectionId]);
    expect(second.app.get(RealtimeService).getConnections()).toHaveLength(2);
  });
});
