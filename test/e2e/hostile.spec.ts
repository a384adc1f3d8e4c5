import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module, ValidationPipe } from '@nestjs/common';
import { IsOptional, IsString } from 'class-validator';
import {
  Channel,
  ChannelName,
  ConnectedClient,
  OnMessage,
  type OnRealtimeDisconnect,
  Payload,
  type RealtimeConnection,
  RealtimeModule,
  RealtimeService,
} from 'nestjs-realtime';
import { type TestApp, startApp } from '../support/create-app.js';
import { EventLog } from '../support/event-log.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient } from '../support/test-client.js';

class NoteDto {
  @IsString()
  text!: string;

  @IsOptional()
  @IsString()
  tag?: string;
}

/** Channels with every feature, and handlers that run payloads through class-transformer and a broadcast. */
@Channel('room:{id}', { public: true, presence: true, history: { size: 20, replayOnJoin: 5 }, whispers: true })
class RoomChannel {
  constructor(private readonly realtime: RealtimeService) {}

  @OnMessage('note')
  async note(
    @Payload(new ValidationPipe({ whitelist: true })) note: NoteDto,
    @ConnectedClient() client: RealtimeConnection,
    @ChannelName() channel: string,
  ): Promise<string> {
    await this.realtime.broadcastToChannel(channel, { type: 'note', payload: note, sender: client.userId });
    return 'noted';
  }

  @OnMessage('echo')
  echo(@Payload() payload: unknown): unknown {
    return payload;
  }
}

@Injectable()
class Departures implements OnRealtimeDisconnect {
  static readonly log = new EventLog<string>();
  onRealtimeDisconnect(client: RealtimeConnection): void {
    Departures.log.push(client.id);
  }
}

@Module({
  imports: [
    RealtimeModule.forRoot({
      authenticate: tokenIsUserId,
      // The flood must reach every code path; rate limits have tests of their own.
      rateLimit: false,
      maxPayloadBytes: 16 * 1024,
    }),
  ],
  providers: [RoomChannel, Departures],
})
class HostileModule {}

const nest = (depth: number, open: string, close: string, inner = '1') =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

/** Thousands of frames a hostile client might send: every one must be answered or ignored, never crash anything. */
function hostileFrames(round: number): (string | Buffer)[] {
  const pollute = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}';
  return [
    '',
    'not json',
    '{"type":',
    'null',
    '[]',
    '"text"',
    `${round}`,
    '{}',
    '{"type":42}',
    '{"type":"chat:group","channel":{"a":1}}',
    '{"type":"subscribe","channel":["room:1"]}',
    '{"type":"subscribe","channel":"room:1","since":"0","epoch":7}',
    '{"type":"history","channel":"room:1","limit":-5}',
    '{"type":"whisper","channel":"room:1","event":{"x":1}}',
    '{"type":"presence","channel":null,"id":{"nested":true}}',
    `{"type":"${'t'.repeat(500)}"}`,
    `{"type":"echo","channel":"room:1","payload":${nest(2000, '[', ']')}}`,
    `{"type":"echo","channel":"room:1","payload":${nest(1000, '{"a":', '}')}}`,
    `{"type":"echo","channel":"room:1","id":"p${round}","payload":${pollute}}`,
    `{"type":"note","channel":"room:1","id":"n${round}","payload":${pollute}}`,
    `{"type":"note","channel":"room:1","payload":{"text":"ok","__proto__":{"isAdmin":true},"constructor":{"name":"x"}}}`,
    `{"__proto__":{"type":"echo"},"type":"echo","channel":"room:1"}`,
    `{"type":"subscribe","channel":"room:${round % 5}","metadata":${pollute}}`,
    `{"type":"whisper","channel":"room:1","event":"typing","payload":${pollute}}`,
    `{"type":"unsubscribe","channel":"room:${(round + 1) % 5}"}`,
    `{"type":"ping","id":${Number.MAX_SAFE_INTEGER + 2}}`,
    Buffer.from([0xff, 0xfe, 0x00, 0x01]),
    '\u0000\u0001\u0002',
    '{"type":"\\ud800"}',
  ];
}

describe('a hostile client', () => {
  let server: TestApp;
  let realtime: RealtimeService;

  beforeAll(async () => {
    server = await startApp(HostileModule);
    realtime = server.app.get(RealtimeService);
  });

  afterAll(async () => {
    await server.app.close();
  });

  it('gets clean errors for thousands of bad frames while others are served, pollutes nothing, and leaves no trace', async () => {
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    const bystander = await TestClient.connect(server.url, { token: 'bystander' });
    await bystander.subscribe('room:1');
    const attackers = await Promise.all(
      ['mallory', 'mallory', 'trudy'].map((user) => TestClient.connect(server.url, { token: user })),
    );
    await Promise.all(attackers.map((attacker) => attacker.subscribe('room:1')));

    let sent = 0;
    for (let round = 0; round < 120; round++) {
      for (const attacker of attackers) {
        for (const frame of hostileFrames(round)) {
          attacker.socket.send(frame);
          sent++;
        }
      }
      if (round % 20 === 0) {
        // The bystander is served in the middle of the flood.
        const ack = await bystander.request({ type: 'note', channel: 'room:1', payload: { text: `round ${round}` } });
        expect(ack).toMatchObject({ type: 'ack', payload: 'noted' });
      }
    }
    expect(sent).toBeGreaterThan(10_000);
    await Promise.all(attackers.map((attacker) => attacker.sync()));

    // Every attacker is still connected, and got errors, not silence.
    for (const attacker of attackers) {
      expect(attacker.socket.readyState).toBe(attacker.socket.OPEN);
      const errors = attacker.pending((frame) => frame.type === 'error');
      expect(errors.length).toBeGreaterThan(1000);
      expect(new Set(errors.map((frame) => frame.error?.code))).toEqual(
        new Set(['BAD_REQUEST', 'VALIDATION_FAILED', 'NOT_SUBSCRIBED']),
      );
    }
    // Polluting keys were dropped before any handler, pipe or transformer saw them.
    const echoed = attackers[0].pending((frame) => frame.type === 'ack' && frame.replyTo === 'p0')[0];
    expect(echoed.payload).toEqual({ constructor: { prototype: { polluted: 'yes' } } });
    const notes = bystander.pending((frame) => frame.type === 'note' && frame.sender !== 'bystander');
    expect(notes.length).toBeGreaterThan(0);
    for (const note of notes) {
      expect(note.payload).toEqual({ text: 'ok' });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);

    // One oversized frame closes only its own connection.
    attackers[2].socket.send(JSON.stringify({ type: 'echo', payload: 'x'.repeat(20_000) }));
    expect((await attackers[2].closed).code).toBe(1009);
    expect((await bystander.request({ type: 'ping' })).type).toBe('pong');

    const everyone = [...attackers, bystander];
    await Promise.all(everyone.map((client) => client.close()));
    // Disconnect hooks run once a connection has left its channels and the registry.
    await Promise.all(everyone.map((client) => Departures.log.waitFor((id) => id === client.connectionId)));
    expect(await realtime.getPresence('room:1')).toEqual([]);
    const stats = realtime.stats();
    expect(stats.connections).toBe(0);
    expect(stats.channels).toBe(0);
    expect(stats.errors.BAD_REQUEST).toBeGreaterThan(3000);
  });
});
