import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Parser } from '@asyncapi/parser';
import { isError } from '../support/asyncapi.js';
import { JwtService } from '@nestjs/jwt';
import { RealtimeTesting, type RealtimeTestClient } from 'nestjs-realtime/testing';
import { createSampleApp } from '../../sample/app.js';
import { TestClient } from '../support/test-client.js';

/**
 * The sample as its users meet it: its HTTP routes over fetch, its realtime endpoint through the testing kit over a
 * real socket, each client with a token from GET /api/token (the built-in jwtAuth verifies it).
 */
describe('sample app', () => {
  let app: INestApplication;
  let url: string;
  let rt: RealtimeTesting;

  async function token(user: string): Promise<string> {
    const response = await fetch(`${url}/api/token?user=${encodeURIComponent(user)}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }

  async function connect(user: string): Promise<RealtimeTestClient> {
    return rt.connect({ token: await token(user) });
  }

  async function post(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  }

  beforeAll(async () => {
    app = await createSampleApp({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    rt = await RealtimeTesting.create(app, { transport: 'socket' });
  });

  afterAll(async () => {
    await rt.close();
    await app.close();
  });

  describe('GET /', () => {
    it('serves the chat page, which loads its script', async () => {
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<script type="module" src="/chat.js"></script>');
      const script = await fetch(`${url}/chat.js`);
      expect(script.status).toBe(200);
      expect(await script.text()).toContain("from '/client/index.js'");
    });
  });

  describe('GET /asyncapi.json', () => {
    it("describes the rooms' messages and payloads in a document the AsyncAPI parser accepts", async () => {
      const response = await fetch(`${url}/asyncapi.json`);
      expect(response.status).toBe(200);
      const { document, diagnostics } = await new Parser().parse(await response.text());
      expect(diagnostics.filter((diagnostic) => isError(diagnostic))).toEqual([]);
      const names = document!
        .messages()
        .all()
        .map((message) => message.name());
      expect(names).toEqual(expect.arrayContaining(['chat:group', 'presence:status', 'system:presence_diff']));
      expect(document!.components().schemas().get('ChatMessageDto')?.properties()?.text?.maxLength()).toBe(2000);
    });
  });

  describe('GET /api/token', () => {
    it('issues a signed token that the WebSocket endpoint accepts', async () => {
      const client = await connect('alice');
      expect(client.userId).toBe('alice');
    });

    it.each(['', 'has space', 'x'.repeat(33), 'semi;colon'])('answers 400 to the name %j', async (name) => {
      const response = await fetch(`${url}/api/token?user=${encodeURIComponent(name)}`);
      expect(response.status).toBe(400);
    });
  });

  describe('WebSocket /realtime', () => {
    it('refuses a missing, forged or expired token with 401', async () => {
      const refused = { code: 'HANDSHAKE_REFUSED', status: 401 };
      await expect(rt.connect()).rejects.toMatchObject(refused);
      const forged = await new JwtService({ secret: 'not-the-secret' }).signAsync({ sub: 'alice' });
      await expect(rt.connect({ token: forged })).rejects.toMatchObject(refused);
      const expired = await app.get(JwtService).signAsync({ sub: 'alice' }, { expiresIn: -10 });
      await expect(rt.connect({ token: expired })).rejects.toMatchObject(refused);
    });

    it('accepts the token in an Authorization: Bearer header', async () => {
      const client = await rt.connect({ headers: { Authorization: `Bearer ${await token('bob')}` } });
      expect(client.userId).toBe('bob');
    });
  });

  describe('room:{roomId}', () => {
    it('broadcasts chat:group to the room with the server-set sender, and acks with the message id', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');
      const outsider = await connect('carol');
      await alice.subscribe('room:lobby');
      await bob.subscribe('room:lobby');
      // A sender in the frame is ignored: the server sets it from the connection.
      alice.sendRaw({
        type: 'chat:group',
        id: 'a1',
        channel: 'room:lobby',
        payload: { text: 'hello room' },
        sender: 'm',
      });
      const ack = await alice.expectMessage('ack', (payload: { id: string }) => payload.id !== undefined);
      const received = await bob.expectMessage('chat:group', { text: 'hello room' }, { channel: 'room:lobby' });
      expect(received.sender).toBe('alice');
      expect(ack.payload).toEqual({ id: received.id, offset: received.offset });
      await rt.expectBroadcast('room:lobby', 'chat:group', { text: 'hello room' });
      await outsider.expectNoMessage('chat:group');
    });

    it.each([
      ['an empty text', { text: '' }],
      ['a text over 2000 characters', { text: 'x'.repeat(2001) }],
      ['a number', { text: 5 }],
      ['no payload', undefined],
    ])('answers VALIDATION_FAILED to %s', async (_case, payload) => {
      const alice = await connect('alice');
      await alice.subscribe('room:validation');
      await expect(alice.request('chat:group', payload, { channel: 'room:validation' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });

    it('shows who is online, with their color, and who joins and leaves', async () => {
      const alice = await connect('alice');
      const joined = await alice.subscribe('room:presence');
      expect(joined).toMatchObject({ members: [{ userId: 'alice', info: { color: expect.any(String) } }] });
      const bob = await connect('bob');
      expect((await bob.subscribe('room:presence')).members).toHaveLength(2);
      await alice.expectPresence('room:presence', { joins: ['bob'] });
      await bob.close();
      await alice.expectPresence('room:presence', { leaves: ['bob'] });
    });

    it('relays typing whispers to the other members, and blocks other whispers', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');
      await alice.subscribe('room:typing');
      await bob.subscribe('room:typing');
      await alice.whisper('room:typing', 'typing', { typing: true });
      const whisper = await bob.expectWhisper('room:typing', 'typing', { typing: true });
      expect(whisper.sender).toBe('alice');
      await expect(alice.whisper('room:typing', 'shout')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });

    it('replays the last messages on join, and what a client missed when it comes back', async () => {
      const alice = await connect('alice');
      await alice.subscribe('room:history');
      for (const text of ['one', 'two']) {
        await alice.request('chat:group', { text }, { channel: 'room:history' });
      }
      const bob = await connect('bob');
      const { epoch } = await bob.subscribe('room:history');
      const replayed = [
        await bob.expectMessage('chat:group', { text: 'one' }),
        await bob.expectMessage('chat:group', { text: 'two' }),
      ];
      await bob.close();

      await alice.request('chat:group', { text: 'three' }, { channel: 'room:history' });
      const back = await connect('bob');
      const recovered = await back.subscribe('room:history', { since: replayed[1].offset, epoch });
      expect(recovered).toMatchObject({ recovered: true, offset: 3 });
      expect(await back.expectMessage('chat:group')).toMatchObject({ offset: 3, payload: { text: 'three' } });
    });

    it('refuses chat:group from a client that did not join', async () => {
      const alice = await connect('alice');
      await expect(alice.request('chat:group', { text: 'x' }, { channel: 'room:other' })).rejects.toMatchObject({
        code: 'NOT_SUBSCRIBED',
      });
    });
  });

  describe('presence status', () => {
    it("presence:status sets the sender's status in the room, for every member to see", async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');
      await alice.subscribe('room:status');
      await bob.subscribe('room:status');
      await expect(alice.request('presence:status', { status: 'away' }, { channel: 'room:status' })).resolves.toBe(
        true,
      );
      await bob.expectMessage('system:presence', { userId: 'alice', info: { status: 'away' } });
      await expect(
        alice.request('presence:status', { status: 'gone' }, { channel: 'room:status' }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });

  describe('chat:private', () => {
    it("reaches every device of the recipient and the sender's other devices", async () => {
      const alicePhone = await connect('alice');
      const aliceLaptop = await connect('alice');
      const bobPhone = await connect('bob');
      const bobLaptop = await connect('bob');
      const { id } = await alicePhone.request<{ id: string }>('chat:private', { text: 'psst' }, { recipient: 'bob' });
      for (const device of [bobPhone, bobLaptop, aliceLaptop]) {
        expect(await device.expectMessage('chat:private', { text: 'psst' })).toMatchObject({
          id,
          sender: 'alice',
          recipient: 'bob',
        });
      }
      await alicePhone.expectNoMessage('chat:private');
    });

    it('answers RECIPIENT_OFFLINE for a user with no connection', async () => {
      const alice = await connect('alice');
      await expect(alice.request('chat:private', { text: 'hello?' }, { recipient: 'nobody' })).rejects.toMatchObject({
        code: 'RECIPIENT_OFFLINE',
      });
    });

    it('answers VALIDATION_FAILED without a valid recipient', async () => {
      const alice = await connect('alice');
      await expect(alice.request('chat:private', { text: 'to whom?' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { field: 'recipient' },
      });
    });
  });

  describe('REST', () => {
    it('POST /api/notify sends a notification to every device of the user', async () => {
      const one = await connect('dana');
      const two = await connect('dana');
      const { status, json } = await post('/api/notify', { user: 'dana', title: 'Hi', body: 'There' });
      expect(status).toBe(202);
      for (const device of [one, two]) {
        const notification = await device.expectMessage('notification', { title: 'Hi', body: 'There' });
        expect(notification.sender).toBeNull();
        expect(json).toEqual({ id: notification.id, online: true });
      }
    });

    it('POST /api/alert sends an alert to everyone', async () => {
      const one = await connect('erin');
      const two = await connect('frank');
      expect((await post('/api/alert', { title: 'Heads up', body: 'Deploying' })).status).toBe(202);
      for (const client of [one, two]) {
        expect((await client.expectMessage('alert')).payload).toEqual({ title: 'Heads up', body: 'Deploying' });
      }
    });

    it('POST /api/events/:name takes every event name the wire protocol accepts', async () => {
      const listener = await connect('gina');
      for (const name of ['deploy:eu-1/v2.3', 'a', 'x'.repeat(58), 'under_score.and-dash']) {
        await listener.subscribe(`events:${name}`);
        const { status } = await post(`/api/events/${encodeURIComponent(name)}`, { name });
        expect(status).toBe(202);
        await listener.expectMessage(`event:${name}`, { name }, { channel: `events:${name}` });
      }
      for (const bad of ['x'.repeat(59), 'with space', 'no@at']) {
        expect((await post(`/api/events/${encodeURIComponent(bad)}`, {})).status).toBe(400);
      }
    });

    it('POST /api/notify says whether the user was online', async () => {
      expect((await post('/api/notify', { user: 'nobody', title: 'Hi', body: 'There' })).json).toMatchObject({
        online: false,
      });
    });

    it('POST /api/events/:name publishes event:<name> to events:<name>', async () => {
      const listener = await connect('gina');
      await listener.subscribe('events:deploys');
      const { status } = await post('/api/events/deploys', { version: '1.2.3', tags: ['a'] });
      expect(status).toBe(202);
      await listener.expectMessage('event:deploys', { version: '1.2.3', tags: ['a'] }, { channel: 'events:deploys' });
      await rt.expectBroadcast('events:deploys', 'event:deploys', { version: '1.2.3' });
    });

    it.each([
      ['/api/notify', { user: 'has space', title: 't', body: 'b' }],
      ['/api/notify', { user: 'dana', title: '', body: 'b' }],
      ['/api/alert', { title: 't' }],
      ['/api/events/bad%20name', { a: 1 }],
    ])('answers 400 to a bad %s body', async (path, body) => {
      expect((await post(path, body)).status).toBe(400);
    });
  });
});

describe('sample app protection from the environment', () => {
  const saved = { ...process.env };
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    process.env = { ...saved };
  });

  async function start(env: Record<string, string>): Promise<string> {
    process.env = { ...saved, ...env };
    app = await createSampleApp({ logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    return app.getUrl();
  }

  async function token(url: string, user: string): Promise<string> {
    return ((await (await fetch(`${url}/api/token?user=${user}`)).json()) as { token: string }).token;
  }

  it('reads REALTIME_RATE_LIMIT (frames per second per user) and REALTIME_MAX_CONNECTIONS_PER_IP', async () => {
    const url = await start({ REALTIME_RATE_LIMIT: '2', REALTIME_MAX_CONNECTIONS_PER_IP: '1' });
    const alice = await TestClient.connect(url, { token: await token(url, 'alice') });
    const answers = await Promise.all([1, 2, 3].map(() => alice.request({ type: 'ping' })));
    expect(answers.map((frame) => frame.error?.code ?? frame.type)).toEqual(['pong', 'pong', 'RATE_LIMITED']);
    expect((await TestClient.refusal(url, { token: await token(url, 'bob') })).status).toBe(429);
    await alice.close();
  });

  it('turns both off with 0', async () => {
    const url = await start({ REALTIME_RATE_LIMIT: '0', REALTIME_MAX_CONNECTIONS_PER_IP: '0' });
    const clients = await Promise.all(
      Array.from({ length: 3 }, async () => TestClient.connect(url, { token: await token(url, 'carol') })),
    );
    const answers = await Promise.all(Array.from({ length: 150 }, () => clients[0].request({ type: 'ping' })));
    expect(answers.every((frame) => frame.type === 'pong')).toBe(true);
    await Promise.all(clients.map((client) => client.close()));
  });

  it('keeps the origin check on: a page from another site is refused', async () => {
    const url = await start({});
    const alice = await token(url, 'alice');
    expect((await TestClient.refusal(url, { token: alice, headers: { Origin: 'https://evil.example' } })).status).toBe(
      403,
    );
    const fromPage = await TestClient.connect(url, { token: alice, headers: { Origin: url } });
    await fromPage.close();
  });

  it('reads REALTIME_TRUST_PROXY: behind a proxy that drops the port from Host, its X-Forwarded-Host counts', async () => {
    const url = await start({ REALTIME_TRUST_PROXY: '1' });
    const page = 'http://localhost:8088';
    const viaProxy = { Origin: page, Host: 'localhost', 'X-Forwarded-Host': 'localhost:8088' };
    const client = await TestClient.connect(url, { token: await token(url, 'alice'), headers: viaProxy });
    await client.close();
    await app?.close();
    const untrusting = await start({});
    const refused = await TestClient.refusal(untrusting, {
      token: await token(untrusting, 'alice'),
      headers: viaProxy,
    });
    expect(refused.status).toBe(403);
  });

  it('refuses to start with a malformed value, naming the variable', async () => {
    await expect(start({ REALTIME_RATE_LIMIT: 'fast' })).rejects.toThrow(
      'REALTIME_RATE_LIMIT must be a whole number (0 turns it off), got "fast"',
    );
    await expect(start({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_NODE_TIMEOUT_MS: 'soon' })).rejects.toThrow(
      'REDIS_NODE_TIMEOUT_MS must be a whole number',
    );
    await expect(start({ REDIS_URL: 'localhost:6379' })).rejects.toThrow(
      'Invalid redisRealtime option "url": expected a redis:// URL, got "localhost:6379"',
    );
  });
});
