import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestRedis, useTestRedis } from '../support/redis-server.js';
import { SampleProcess } from '../support/sample-process.js';
import { type Frame, TestClient, ofType } from '../support/test-client.js';

// The sample as users run it: built, in its own processes. Both describes build (one after the other, in this file
// only), so no other test file may build dist/ or dist-sample/.

describe('npm run sample', () => {
  let sample: SampleProcess;

  beforeAll(() => {
    sample = SampleProcess.spawn('npm', ['run', 'sample']);
  });

  afterAll(async () => {
    await sample.kill();
  });

  it('builds and starts the sample, which drains its clients on SIGTERM', async () => {
    const { pid, url } = await sample.listening();
    expect(sample.output).toContain('In-process broker: set REDIS_URL to run several processes as one server');
    const { token } = (await (await fetch(`${url}/api/token?user=smoke`)).json()) as { token: string };
    const client = await TestClient.connect(url, { token });
    expect((await client.subscribe('room:smoke')).type).toBe('subscribed');
    process.kill(pid, 'SIGTERM');
    expect(await client.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    await sample.exited;
  }, 60_000);
});

const isChat = ofType('chat:group');
const userLeft = ofType('system:user_left');

describe('three sample processes on one Redis', () => {
  let redis: TestRedis;
  const samples: SampleProcess[] = [];
  const urls: string[] = [];
  const open: TestClient[] = [];

  async function connect(instance: number, user: string): Promise<TestClient> {
    const url = urls[instance];
    const { token } = (await (await fetch(`${url}/api/token?user=${user}`)).json()) as { token: string };
    const client = await TestClient.connect(url, { token });
    open.push(client);
    return client;
  }

  function post(instance: number, path: string, body: unknown): Promise<Response> {
    return fetch(`${urls[instance]}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  const userIds = (frame: Frame) =>
    ((frame.payload as { members: { userId: string }[] }).members ?? []).map((member) => member.userId).sort();

  beforeAll(async () => {
    redis = await useTestRedis();
    await SampleProcess.build();
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.prefix(), REDIS_NODE_TIMEOUT_MS: '900' };
    for (let i = 0; i < 3; i++) {
      samples.push(SampleProcess.spawn('node', ['dist-sample/main.js'], env));
    }
    for (const sample of samples) {
      urls.push((await sample.listening()).url);
    }
    expect(samples[0].output).toContain('Scaled out on Redis');
  }, 120_000);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await Promise.all(samples.map((sample) => sample.kill()));
    await redis.stop();
  });

  it('chats across processes: a message sent on one reaches the room on the others', async () => {
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    const carol = await connect(2, 'carol');
    for (const client of [alice, bob, carol]) {
      await client.subscribe('room:lobby');
    }
    const ack = await alice.request({ type: 'chat:group', channel: 'room:lobby', payload: { text: 'hi all' } });
    expect(ack.type).toBe('ack');
    for (const client of [bob, carol]) {
      expect(await client.next(isChat)).toMatchObject({ sender: 'alice', payload: { text: 'hi all' } });
    }
  });

  it('delivers a direct message to every device of the recipient, whichever process holds it', async () => {
    const alice = await connect(0, 'alice');
    const bobPhone = await connect(1, 'bob');
    const bobLaptop = await connect(2, 'bob');
    const ack = await alice.request({ type: 'chat:private', recipient: 'bob', payload: { text: 'psst' } });
    expect(ack.type).toBe('ack');
    for (const device of [bobPhone, bobLaptop]) {
      expect(await device.nextOfType('chat:private')).toMatchObject({ sender: 'alice', payload: { text: 'psst' } });
    }
  });

  it('sends REST notifications and alerts from one process to clients on the others', async () => {
    const dana = await connect(0, 'dana');
    const erin = await connect(1, 'erin');
    expect((await post(2, '/api/notify', { user: 'dana', title: 'Hi', body: 'from REST' })).status).toBe(202);
    expect((await dana.nextOfType('notification')).payload).toEqual({ title: 'Hi', body: 'from REST' });
    expect((await post(2, '/api/alert', { title: 'Alert', body: 'everyone' })).status).toBe(202);
    for (const client of [dana, erin]) {
      expect((await client.nextOfType('alert')).payload).toEqual({ title: 'Alert', body: 'everyone' });
    }
  });

  it('shows the members of every process in a room', async () => {
    await (await connect(0, 'fred')).subscribe('room:union');
    await (await connect(1, 'gail')).subscribe('room:union');
    const joined = await (await connect(2, 'hugo')).subscribe('room:union');
    expect(userIds(joined)).toEqual(['fred', 'gail', 'hugo']);
  });

  it('recovers on another process exactly the messages missed on the first', async () => {
    const reader = await connect(0, 'ivan');
    const subscribed = await reader.subscribe('room:recovery');
    const { epoch } = subscribed.payload as { epoch: string };
    const writer = await connect(1, 'jane');
    await writer.subscribe('room:recovery');
    await writer.request({ type: 'chat:group', channel: 'room:recovery', payload: { text: 'one' } });
    const seen = await reader.next(isChat);
    await reader.close();
    for (const text of ['two', 'three']) {
      await writer.request({ type: 'chat:group', channel: 'room:recovery', payload: { text } });
    }
    const back = await connect(2, 'ivan');
    const reply = await back.request({ type: 'subscribe', channel: 'room:recovery', since: seen.offset, epoch });
    expect(reply.payload).toMatchObject({ epoch, recovered: true });
    const replayed = [await back.next(isChat), await back.next(isChat)];
    expect(replayed.map((frame) => (frame.payload as { text: string }).text)).toEqual(['two', 'three']);
    expect(replayed.map((frame) => frame.offset)).toEqual([(seen.offset as number) + 1, (seen.offset as number) + 2]);
  });

  // Last: it kills a process.
  it('removes the members of a SIGKILLed process and announces each leave once', async () => {
    const watchers = [await connect(0, 'watcher0'), await connect(2, 'watcher2')];
    for (const watcher of watchers) {
      await watcher.subscribe('room:crash');
    }
    const doomed = await connect(1, 'kim');
    await doomed.subscribe('room:crash');

    await samples[1].kill('SIGKILL');
    for (const watcher of watchers) {
      expect((await watcher.next(userLeft, 10_000)).payload).toMatchObject({ userId: 'kim' });
    }
    // A second announcement would come from a surviving process: a frame it sends after the reap arrives after it.
    const presence = await watchers[0].request({ type: 'presence', channel: 'room:crash' });
    expect(userIds(presence)).toEqual(['watcher0', 'watcher2']);
    for (const watcher of watchers) {
      await watcher.sync();
      expect(watcher.pending(userLeft)).toEqual([]);
    }
  }, 30_000);
});
