import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, UseInterceptors } from '@nestjs/common';
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
import { type TestApp, startApp } from '../support/create-app.js';
import { TestClient } from '../support/test-client.js';

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

describe('hooks as guards and interceptors', () => {
  let server: TestApp;
  let user: TestClient;
  let visitor: TestClient;

  beforeAll(async () => {
    server = await startApp(HooksModule, 'express', (app) => {
      app.useGlobalInterceptors(new RealtimeLoggingInterceptor());
    });
    user = await TestClient.connect(server.url, { token: 'alice' });
    visitor = await TestClient.connect(server.url);
    await Promise.all([user.subscribe('room:1'), visitor.subscribe('room:1'), visitor.subscribe('lobby:1')]);
  });

  afterAll(async () => {
    await Promise.all([user.close(), visitor.close()]);
    await server.app.close();
  });

  describe('a global auth guard with a @Public() escape', () => {
    it('accepts visitors as anonymous connections', () => {
      expect(visitor.welcome.payload).toMatchObject({ userId: null });
    });

    it('refuses anonymous connections with UNAUTHORIZED', async () => {
      const refused = await visitor.request({ type: 'chat:group', channel: 'room:1', payload: { text: 'hi' } });
      expect(refused.error).toEqual({ code: ErrorCode.UNAUTHORIZED, message: 'Sign in first' });
    });

    it('lets signed-in users through', async () => {
      expect((await user.request({ type: 'chat:group', channel: 'room:1', payload: { text: 'hi' } })).payload).toBe(
        'sent',
      );
    });

    it('applies to joins too: a class without @Public() refuses visitors', async () => {
      expect((await visitor.subscribe('staff:1')).error?.code).toBe(ErrorCode.UNAUTHORIZED);
      expect((await user.subscribe('staff:1')).type).toBe('subscribed');
    });

    it('lets anyone use a @Public() handler, join check or class', async () => {
      expect((await visitor.request({ type: 'room:info', channel: 'room:1' })).payload).toBe('open to visitors');
      expect((await visitor.request({ type: 'lobby:hello', channel: 'lobby:1' })).payload).toBe('hello');
    });

    it('leaves HTTP routes alone', async () => {
      expect(await (await fetch(`${server.url}/api/status`)).json()).toEqual({ ok: true });
    });
  });

  describe('a persistence interceptor (an after-message hook)', () => {
    it('keeps what a handler handled, and not what failed', async () => {
      const repository = server.app.get(MessageRepository);
      repository.saved.length = 0;
      await user.request({ type: 'chat:group', channel: 'room:1', payload: { text: 'keep me' } });
      const failed = await user.request({ type: 'chat:group', channel: 'room:1', payload: { text: 'fail' } });
      expect(failed.error?.code).toBe(ErrorCode.INTERNAL);
      expect(repository.saved).toEqual([
        { type: 'chat:group', channel: 'room:1', sender: 'alice', payload: { text: 'keep me' } },
      ]);
    });
  });

  describe('RealtimeLoggingInterceptor', () => {
    it('logs each handled message at debug level with the connection id, and failures with their reason', async () => {
      await user.request({ type: 'chat:group', channel: 'room:1', payload: { text: 'logged' } });
      await user.request({ type: 'chat:group', channel: 'room:1', payload: { text: 'fail' } });
      const lines = server.logger.entries.filter((entry) => entry.message.startsWith(`[${user.connectionId}]`));
      expect(lines.map((entry) => entry.level)).not.toContain('log');
      expect(lines.some((entry) => /chat:group in room:1 handled in \d+\.\d ms$/.test(entry.message))).toBe(true);
      expect(
        lines.some((entry) => /chat:group in room:1 failed in \d+\.\d ms: handler failed$/.test(entry.message)),
      ).toBe(true);
    });
  });

  describe('RealtimeMetricsInterceptor', () => {
    it('counts handled and failed messages per type in stats()', async () => {
      const realtime = server.app.get(RealtimeService);
      const before = realtime.stats().handlers['chat:group'] ?? { handled: 0, failed: 0, totalMs: 0 };
      await user.request({ type: 'chat:group', channel: 'room:1', payload: { text: 'counted' } });
      await user.request({ type: 'chat:group', channel: 'room:1', payload: { text: 'fail' } });
      const after = realtime.stats().handlers['chat:group'];
      expect(after.handled - before.handled).toBe(2);
      expect(after.failed - before.failed).toBe(1);
      expect(after.totalMs).toBeGreaterThanOrEqual(before.totalMs);
    });
  });
});
