import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, Module, UseInterceptors } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import {
  Channel,
  ErrorCode,
  OnMessage,
  Payload,
  type RealtimeIdentity,
  RealtimeLoggingInterceptor,
  RealtimeMetricsInterceptor,
  RealtimeModule,
  RealtimeService,
  getHandshakeToken,
} from 'nestjs-realtime';
import { MessageRepository } from '../examples/message.repository.js';
import { PersistMessagesInterceptor } from '../examples/persist-messages.interceptor.js';
import { Public, RequireUserGuard } from '../examples/require-user.guard.js';
import { RealtimeTesting, type RealtimeTestClient } from 'nestjs-realtime/testing';
import { CaptureLogger } from '../support/capture-logger.js';
import { TRANSPORTS } from '../support/kit.js';

/** Signed-in users bring a token; visitors bring none and are accepted anonymously. */
function usersAndVisitors(request: IncomingMessage): RealtimeIdentity {
  return { userId: getHandshakeToken(request) ?? null };
}

/** Anyone may look into a room; only signed-in users may talk in it. */
@UseInterceptors(PersistMessagesInterceptor)
@Channel('room:{id}')
class RoomChannel {
  @Public()
  canJoin(): boolean {
    return true;
  }

  @OnMessage('chat:group')
  send(@Payload() payload: { text?: string }): string {
    if (payload?.text === 'fail') {
      throw new Error('handler failed');
    }
    return 'sent';
  }

  @Public()
  @OnMessage('room:info')
  info(): string {
    return 'open to visitors';
  }
}

@Public()
@Channel('lobby:{id}')
class LobbyChannel {
  @OnMessage('lobby:hello')
  hello(): string {
    return 'hello';
  }
}

@Channel('staff:{id}')
class StaffChannel {}

@Controller('api')
class StatusController {
  @Get('status')
  status(): { ok: boolean } {
    return { ok: true };
  }
}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: usersAndVisitors })],
  controllers: [StatusController],
  providers: [
    RoomChannel,
    LobbyChannel,
    StaffChannel,
    MessageRepository,
    { provide: APP_GUARD, useClass: RequireUserGuard },
    { provide: APP_INTERCEPTOR, useClass: RealtimeMetricsInterceptor },
  ],
})
class HooksModule {}

describe.each(TRANSPORTS)('hooks as guards and interceptors, %s', (transport) => {
  const logger = new CaptureLogger();
  let app: INestApplication;
  let rt: RealtimeTesting;
  let user: RealtimeTestClient;
  let visitor: RealtimeTestClient;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [HooksModule] })
      .setLogger(logger)
      .compile();
    app = moduleRef.createNestApplication();
    app.useGlobalInterceptors(new RealtimeLoggingInterceptor());
    // Listening for the HTTP route's test; realtime clients use the kit's transport.
    await app.listen(0, '127.0.0.1');
    rt = await RealtimeTesting.create(app, { transport });
    // The app's own authenticator runs: a token is the user id, no token a visitor.
    user = await rt.connect({ token: 'alice' });
    visitor = await rt.connect();
    await Promise.all([user.subscribe('room:1'), visitor.subscribe('room:1'), visitor.subscribe('lobby:1')]);
  });

  afterAll(async () => {
    await rt.close();
    await app.close();
  });

  describe('a global auth guard with a @Public() escape', () => {
    it('accepts visitors as anonymous connections', () => {
      expect(visitor.userId).toBeNull();
    });

    it('refuses anonymous connections with UNAUTHORIZED', async () => {
      await expect(visitor.request('chat:group', { text: 'hi' }, { channel: 'room:1' })).rejects.toMatchObject({
        code: ErrorCode.UNAUTHORIZED,
        message: 'Sign in first',
      });
    });

    it('lets signed-in users through', async () => {
      await expect(user.request('chat:group', { text: 'hi' }, { channel: 'room:1' })).resolves.toBe('sent');
    });

    it('applies to joins too: a class without @Public() refuses visitors', async () => {
      await expect(visitor.subscribe('staff:1')).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
      await expect(user.subscribe('staff:1')).resolves.toBeDefined();
    });

    it('lets anyone use a @Public() handler, join check or class', async () => {
      await expect(visitor.request('room:info', undefined, { channel: 'room:1' })).resolves.toBe('open to visitors');
      await expect(visitor.request('lobby:hello', undefined, { channel: 'lobby:1' })).resolves.toBe('hello');
    });

    it('leaves HTTP routes alone', async () => {
      expect(await (await fetch(`${await app.getUrl()}/api/status`)).json()).toEqual({ ok: true });
    });
  });

  describe('a persistence interceptor (an after-message hook)', () => {
    it('keeps what a handler handled, and not what failed', async () => {
      const repository = app.get(MessageRepository);
      repository.saved.length = 0;
      await user.request('chat:group', { text: 'keep me' }, { channel: 'room:1' });
      await expect(user.request('chat:group', { text: 'fail' }, { channel: 'room:1' })).rejects.toMatchObject({
        code: ErrorCode.INTERNAL,
      });
      expect(repository.saved).toEqual([
        { type: 'chat:group', channel: 'room:1', sender: 'alice', payload: { text: 'keep me' } },
      ]);
    });
  });

  describe('RealtimeLoggingInterceptor', () => {
    it('logs each handled message at debug level with the connection id, and failures with their reason', async () => {
      await user.request('chat:group', { text: 'logged' }, { channel: 'room:1' });
      await user.request('chat:group', { text: 'fail' }, { channel: 'room:1' }).catch(() => undefined);
      const lines = logger.entries.filter((entry) => entry.message.startsWith(`[${user.connectionId}]`));
      expect(lines.map((entry) => entry.level)).not.toContain('log');
      expect(lines.some((entry) => /chat:group in room:1 handled in \d+\.\d ms$/.test(entry.message))).toBe(true);
      expect(
        lines.some((entry) => /chat:group in room:1 failed in \d+\.\d ms: handler failed$/.test(entry.message)),
      ).toBe(true);
    });
  });

  describe('RealtimeMetricsInterceptor', () => {
    it('counts handled and failed messages per type in stats()', async () => {
      const realtime = app.get(RealtimeService);
      const before = realtime.stats().handlers['chat:group'] ?? { handled: 0, failed: 0, totalMs: 0 };
      await user.request('chat:group', { text: 'counted' }, { channel: 'room:1' });
      await user.request('chat:group', { text: 'fail' }, { channel: 'room:1' }).catch(() => undefined);
      const after = realtime.stats().handlers['chat:group'];
      expect(after.handled - before.handled).toBe(2);
      expect(after.failed - before.failed).toBe(1);
      expect(after.totalMs).toBeGreaterThanOrEqual(before.totalMs);
    });
  });
});
