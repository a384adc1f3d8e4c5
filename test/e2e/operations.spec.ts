import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { type BrokerHealth, Channel, LocalBroker, OnMessage, RealtimeModule, RealtimeService } from 'nestjs-realtime';
import { registerRealtimeMetrics } from 'nestjs-realtime/prometheus';
import { RealtimeHealthIndicator } from 'nestjs-realtime/terminus';
import { Registry } from 'prom-client';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient } from '../support/test-client.js';

@Channel('room:{id}', { public: true })
class RoomChannel {
  @OnMessage('chat:group')
  send(): string {
    return 'ok';
  }
}

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly realtime: RealtimeHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.realtime.isHealthy()]);
  }
}

/** A broker whose health the test sets, as a remote broker's would change. */
class SwitchableBroker extends LocalBroker {
  down: string | undefined;
  override health(): BrokerHealth {
    return this.down === undefined ? { up: true } : { up: false, reason: this.down };
  }
}

const broker = new SwitchableBroker();

@Module({
  imports: [TerminusModule, RealtimeModule.forRoot({ authenticate: tokenIsUserId, broker, maxConnectionsPerUser: 1 })],
  controllers: [HealthController],
  providers: [RoomChannel, RealtimeHealthIndicator],
})
class OperationsModule {}

describe('operations', () => {
  let server: TestApp;
  let realtime: RealtimeService;

  beforeAll(async () => {
    server = await startApp(OperationsModule);
    realtime = server.app.get(RealtimeService);
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('stats() counts connections, channels, frames by type, errors by code and refused handshakes', async () => {
    const before = realtime.stats();
    const alice = await TestClient.connect(server.url, { token: 'alice' });
    await alice.subscribe('room:1');
    await alice.request({ type: 'chat:group', channel: 'room:1' });
    await alice.request({ type: 'made:up' });
    alice.send('not json');
    await alice.nextOfType('error');
    expect((await TestClient.refusal(server.url, { token: 'alice' })).status).toBe(429);

    const now = realtime.stats();
    expect(now.connections).toBe(before.connections + 1);
    expect(now.channels).toBe(1);
    const grew = (after: Readonly<Record<string, number>>, earlier: Readonly<Record<string, number>>, key: string) =>
      (after[key] ?? 0) - (earlier[key] ?? 0);
    expect(grew(now.framesIn, before.framesIn, 'subscribe')).toBe(1);
    expect(grew(now.framesIn, before.framesIn, 'chat:group')).toBe(1);
    expect(grew(now.framesIn, before.framesIn, 'other')).toBe(1);
    expect(grew(now.framesOut, before.framesOut, 'system:welcome')).toBe(1);
    expect(grew(now.framesOut, before.framesOut, 'subscribed')).toBe(1);
    expect(grew(now.framesOut, before.framesOut, 'ack')).toBe(1);
    expect(grew(now.errors, before.errors, 'UNKNOWN_TYPE')).toBe(1);
    expect(grew(now.errors, before.errors, 'BAD_REQUEST')).toBe(1);
    expect(grew(now.handshakesRefused, before.handshakesRefused, '429')).toBe(1);

    await realtime.broadcastToChannel('room:1', { type: 'news' });
    await alice.nextOfType('news');
    expect(grew(realtime.stats().framesOut, before.framesOut, 'news')).toBe(1);
    await alice.close();
  });

  it('exposes the stats as Prometheus metrics', async () => {
    const registry = new Registry();
    registerRealtimeMetrics(realtime, { registry });
    const alice = await TestClient.connect(server.url, { token: 'alice' });
    await alice.subscribe('room:2');
    const text = await registry.metrics();
    expect(text).toContain('# TYPE realtime_connections gauge');
    expect(text).toMatch(/^realtime_connections 1$/m);
    expect(text).toMatch(/^realtime_channels 1$/m);
    expect(text).toMatch(/^realtime_frames_in_total\{type="subscribe"\} \d+$/m);
    expect(text).toMatch(/^realtime_errors_total\{code="BAD_REQUEST"\} \d+$/m);
    expect(text).toMatch(/^realtime_handshakes_refused_total\{status="429"\} \d+$/m);
    expect(text).toMatch(/^realtime_dropped_total 0$/m);
    // Read at scrape time: a second scrape sees new activity, and nothing is counted twice.
    const subscribesBefore = Number(/^realtime_frames_in_total\{type="subscribe"\} (\d+)$/m.exec(text)?.[1]);
    await alice.subscribe('room:3');
    const again = await registry.metrics();
    expect(again).toMatch(new RegExp(`^realtime_frames_in_total\\{type="subscribe"\\} ${subscribesBefore + 1}$`, 'm'));
    await alice.close();
  });

  it('reports health through @nestjs/terminus: up, and down with the reason when the broker is down', async () => {
    const up = await fetch(`${server.url}/health`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({
      status: 'ok',
      info: { realtime: { status: 'up', accepting: true, broker: 'up' } },
    });
    broker.down = 'connection to redis lost';
    try {
      const down = await fetch(`${server.url}/health`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({
        status: 'error',
        error: { realtime: { status: 'down', broker: 'down: connection to redis lost' } },
      });
    } finally {
      broker.down = undefined;
    }
    expect(realtime.health()).toEqual({ up: true, accepting: true, connections: 0, broker: { up: true } });
  });
});

describe('health during shutdown', () => {
  @Module({ imports: [RealtimeModule.forRoot()] })
  class PlainModule {}

  it('is down once the endpoint stops accepting connections', async () => {
    const { app } = await startApp(PlainModule);
    const realtime = app.get(RealtimeService);
    expect(realtime.health().up).toBe(true);
    await app.close();
    expect(realtime.health()).toMatchObject({ up: false, accepting: false });
  });
});
