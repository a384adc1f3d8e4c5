import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, type Page, type WebSocketRoute, chromium } from 'playwright-core';
import { OwnNats } from '../support/nats-server.js';
import { type Program, chromiumPath, describeNeeding } from '../support/programs.js';
import { OwnNginx, recommendedConfig } from '../support/nginx.js';
import { OwnRedisCluster } from '../support/redis-cluster.js';
import { useTestRedis } from '../support/redis-server.js';
import { SampleProcess } from '../support/sample-process.js';
import { type Frame, TestClient, announces, ofType } from '../support/test-client.js';

// The sample as users run it: built, in its own processes. This file builds (once here, once more through
// `npm run sample`, one after the other); no other test file may build dist/ or dist-sample/.

beforeAll(async () => {
  await SampleProcess.build();
}, 120_000);

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
    expect(sample.output).toContain('In-process broker: set REDIS_URL, REDIS_CLUSTER_NODES or NATS_URL');
    const { token } = (await (await fetch(`${url}/api/token?user=smoke`)).json()) as { token: string };
    const client = await TestClient.connect(url, { token });
    expect((await client.subscribe('room:smoke')).type).toBe('subscribed');
    process.kill(pid, 'SIGTERM');
    expect(await client.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    await sample.exited;
  }, 60_000);
});

/** Launches Chromium headless: `CHROMIUM_PATH`, or the first of its usual names on `PATH`. */
function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) {
    throw new Error('These tests need Chromium: apt-get install chromium (Debian), or set CHROMIUM_PATH');
  }
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
const isChat = ofType('chat:group');
const kimLeft = announces('kim', 'leaves');

/** A backend the sample processes share: the environment that selects it, the log line that says so, and its end. */
interface SharedBackend {
  readonly env: Record<string, string>;
  readonly banner: string;
  stop(): Promise<void>;
}

/** Three sample processes on one shared backend behave as one server; with `browser`, the chat page is tested too. */
function describeThreeProcesses(
  name: string,
  programs: Program[],
  start: () => Promise<SharedBackend>,
  browser: boolean,
): void {
  describeNeeding(...programs)(`three sample processes on ${name}`, () => {
    let backend: SharedBackend;
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
      backend = await start();
      for (let i = 0; i < 3; i++) {
        samples.push(
          SampleProcess.spawn('node', ['dist-sample/main.js'], { ...backend.env, REDIS_NODE_TIMEOUT_MS: '900' }),
        );
      }
      for (const sample of samples) {
        urls.push((await sample.listening()).url);
      }
      expect(samples[0].output).toContain(backend.banner);
    }, 120_000);

    afterEach(async () => {
      await Promise.all(open.splice(0).map((client) => client.close()));
    });

    afterAll(async () => {
      await Promise.all(samples.map((sample) => sample.kill()));
      await backend?.stop();
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

    if (browser)
      describeNeeding('chromium')('the chat page, in Chromium, on two processes', () => {
        let browser: Browser;
        const pages: Page[] = [];

        /**
         * A network the test can cut: every WebSocket of the page goes through it to the server; while cut, the open one
         * is closed and new ones are refused at once, as when a laptop loses its Wi-Fi.
         */
        interface Network {
          cut(): Promise<void>;
          restore(): void;
        }

        async function cuttableNetwork(page: Page): Promise<Network> {
          let cut = false;
          let current: WebSocketRoute | undefined;
          await page.routeWebSocket(/\/realtime/, async (socket) => {
            if (cut) {
              await socket.close({ code: 4002, reason: 'No network' });
              return;
            }
            current = socket;
            socket.connectToServer();
          });
          return {
            cut: async () => {
              cut = true;
              await current?.close({ code: 4002, reason: 'No network' });
            },
            restore: () => {
              cut = false;
            },
          };
        }

        /** Opens the page on an instance and signs in; resolves once connected and in the lobby. */
        async function signIn(
          instance: number,
          name: string,
          network?: (page: Page) => Promise<unknown>,
        ): Promise<Page> {
          const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
          pages.push(page);
          await network?.(page);
          await page.goto(urls[instance]);
          await page.fill('#name', name);
          await page.click('#login button');
          await page.locator('#state', { hasText: 'connected' }).waitFor();
          await page.locator('#members li', { hasText: name }).waitFor();
          return page;
        }

        const members = (page: Page) => page.locator('#members li');
        const messages = (page: Page) => page.locator('#messages');

        beforeAll(async () => {
          browser = await launchChromium();
        }, 30_000);

        afterAll(async () => {
          await browser?.close();
        });

        it('refreshes its token in band when the server warns, and stays connected', async () => {
          const frames: { direction: 'out' | 'in'; frame: { type?: string; id?: unknown; replyTo?: unknown } }[] = [];
          const socketUrls: string[] = [];
          let refreshed: () => void = () => undefined;
          const acked = new Promise<void>((resolve) => (refreshed = resolve));
          const dee = await signIn(0, 'dee', (page) =>
            page.routeWebSocket(/\/realtime/, (socket) => {
              socketUrls.push(socket.url());
              const server = socket.connectToServer();
              const record = (direction: 'out' | 'in', message: string | Buffer) => {
                const frame =
                  typeof message === 'string' ? (JSON.parse(message) as (typeof frames)[number]['frame']) : {};
                frames.push({ direction, frame });
                const refresh = frames.find((each) => each.direction === 'out' && each.frame.type === 'refresh');
                if (
                  direction === 'in' &&
                  frame.type === 'ack' &&
                  refresh !== undefined &&
                  frame.replyTo === refresh.frame.id
                ) {
                  refreshed();
                }
              };
              socket.onMessage((message) => {
                record('out', message);
                server.send(message);
              });
              server.onMessage((message) => {
                record('in', message);
                socket.send(message);
              });
            }),
          );
          await acked;
          expect(
            frames.some(({ direction, frame }) => direction === 'in' && frame.type === 'system:token_expiring'),
          ).toBe(true);
          await dee.locator('#state.connected').waitFor();
          // The URL carried no token: the page's SDK sent it in the subprotocol.
          expect(socketUrls.length).toBeGreaterThan(0);
          expect(socketUrls.filter((url) => url.includes('token='))).toEqual([]);
        });

        it('two users chat in a room: presence, typing, messages, history, direct messages, notices, leaving', async () => {
          const ann = await signIn(0, 'ann');
          let network: Network | undefined;
          const ben = await signIn(2, 'ben', async (page) => (network = await cuttableNetwork(page)));
          // Presence: each page shows both users, across the two processes.
          for (const page of [ann, ben]) {
            await members(page).filter({ hasText: 'ann' }).waitFor();
            await members(page).filter({ hasText: 'ben' }).waitFor();
          }
          await messages(ann).getByText('ben joined').waitFor();

          // Typing: a whisper shows "ben is typing..." on ann's page.
          await ben.locator('#text').pressSequentially('hello a');
          await ann.locator('#typing', { hasText: 'ben is typing...' }).waitFor();

          // A message reaches the other page, with its sender; sending it clears "is typing" there at once.
          await ben.locator('#text').pressSequentially('nn');
          await ben.click('#send button[type=submit]');
          await messages(ann).locator('li', { hasText: 'hello ann' }).filter({ hasText: 'ben' }).waitFor();
          expect(await ann.locator('#typing').textContent()).toBe('');

          // Presence status: ann goes away, ben's member list says so.
          await ann.selectOption('#status', 'away');
          await members(ben).filter({ hasText: 'ann · away' }).waitFor();

          // Sent while the connection is down: it waits, shown as sending, and arrives once ben is back.
          await network!.cut();
          await ben.locator('#state', { hasText: /disconnected|connecting/ }).waitFor();
          await ben.fill('#text', 'sent while offline');
          await ben.click('#send button[type=submit]');
          await messages(ben).getByText('sent while offline (sending...)').waitFor();
          network!.restore();
          await messages(ann).locator('li', { hasText: 'sent while offline' }).filter({ hasText: 'ben' }).waitFor();
          await messages(ben).getByText('sent while offline (sending...)').waitFor({ state: 'detached' });
          await ben.locator('#state.connected').waitFor();

          // History on join: a third user sees the message sent before it came.
          const cat = await signIn(0, 'cat');
          await messages(cat).locator('li', { hasText: 'hello ann' }).waitFor();

          // A direct message reaches only its recipient.
          await ann.fill('#dm-to', 'ben');
          await ann.fill('#dm-text', 'just for you');
          await ann.click('#direct button');
          await messages(ben).getByText('(direct from ann) just for you').waitFor();

          // Notifications and alerts sent through the REST routes of one process reach pages on both.
          expect((await post(2, '/api/notify', { user: 'ben', title: 'Parcel', body: 'arrived' })).status).toBe(202);
          await ben.locator('#notices li', { hasText: 'Parcel: arrived' }).waitFor();
          expect((await post(0, '/api/alert', { title: 'Maintenance', body: 'at noon' })).status).toBe(202);
          for (const page of [ann, ben, cat]) {
            await page.locator('#notices li.alert', { hasText: 'Maintenance: at noon' }).waitFor();
          }

          // `npm run screenshot` sets it to write docs/chat.png; tests never rewrite tracked files otherwise.
          const screenshot = process.env.REALTIME_SCREENSHOT;
          if (screenshot) {
            await ann.screenshot({ path: screenshot });
          }

          // Leaving: the others see it, and the member list drops the user.
          // (Its first "ben left" was the cut network's; this is the second.)
          await ben.click('#leave');
          await messages(ann).getByText('ben left').nth(1).waitFor();
          await members(ann).filter({ hasText: 'ben' }).waitFor({ state: 'detached' });
        }, 60_000);
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
        await watcher.next(kimLeft, 10_000);
      }
      // A second announcement would come from a surviving process: a frame it sends after the reap arrives after it.
      const presence = await watchers[0].request({ type: 'presence', channel: 'room:crash' });
      expect(userIds(presence)).toEqual(['watcher0', 'watcher2']);
      for (const watcher of watchers) {
        await watcher.sync();
        expect(watcher.pending(kimLeft)).toEqual([]);
      }
    }, 30_000);
  });
}

describeThreeProcesses(
  'one Redis',
  ['redis-server'],
  async () => {
    const redis = await useTestRedis();
    return {
      // Tokens last 12 hours: a warning window longer than that has every connection refresh its token at once,
      // which the page's client SDK does in band.
      env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.prefix(), REALTIME_TOKEN_WARNING_MS: String(13 * 3600_000) },
      banner: 'Scaled out on Redis (REDIS_URL)',
      stop: () => redis.stop(),
    };
  },
  true,
);

describeThreeProcesses(
  'a Redis Cluster',
  ['redis-server', 'redis-cli'],
  async () => {
    const cluster = await OwnRedisCluster.start();
    return {
      env: { REDIS_CLUSTER_NODES: cluster.nodes.join(',') },
      banner: 'Scaled out on a Redis Cluster (REDIS_CLUSTER_NODES)',
      stop: () => cluster.stop(),
    };
  },
  false,
);

describeThreeProcesses(
  'NATS',
  ['nats-server'],
  async () => {
    const nats = await OwnNats.start();
    return {
      env: { NATS_URL: nats.url },
      banner: 'Scaled out on NATS (NATS_URL)',
      stop: () => nats.remove(),
    };
  },
  false,
);

describeNeeding('nginx', 'chromium')('the sample behind nginx', () => {
  const started: { stop(): Promise<unknown> }[] = [];
  let browser: Browser;

  /** A built sample with `env`, and an nginx in front of it with the server block `site` makes. */
  async function behindNginx(
    env: Record<string, string>,
    site: (upstreamPort: number, port: number) => string,
  ): Promise<{ sample: SampleProcess; nginx: OwnNginx }> {
    const sample = SampleProcess.spawn('node', ['dist-sample/main.js'], env);
    started.push({ stop: () => sample.kill() });
    const upstreamPort = Number(new URL((await sample.listening()).url).port);
    const nginx = await OwnNginx.start((port) => site(upstreamPort, port));
    started.push(nginx);
    return { sample, nginx };
  }

  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(started.map((each) => each.stop()));
  });

  it('serves the chat page through docs/nginx.conf: the page connects and chats through the proxy', async () => {
    const { nginx } = await behindNginx({ REALTIME_TRUST_PROXY: '1' }, recommendedConfig);
    const page = await browser.newPage();
    await page.goto(nginx.url);
    await page.fill('#name', 'nia');
    await page.click('#login button');
    await page.locator('#state', { hasText: 'connected' }).waitFor();
    await page.locator('#members li', { hasText: 'nia' }).waitFor();
    await page.locator('#text').fill('through the proxy');
    await page.click('#send button[type=submit]');
    await page.locator('#messages li', { hasText: 'through the proxy' }).waitFor();
    await page.close();
  }, 60_000);

  it("with the common Host $host and no proxy trusted, refuses the page's origin, and the log says why", async () => {
    // The most common WebSocket recipe: Host without the port, nothing else forwarded.
    const common = (upstreamPort: number, port: number) =>
      recommendedConfig(upstreamPort, port)
        .replace('proxy_set_header Host $http_host;', 'proxy_set_header Host $host;')
        .replace(/\n\s*proxy_set_header X-Forwarded-Host \$http_host;/, '');
    const { sample, nginx } = await behindNginx({}, common);
    const { token } = (await (await fetch(`${nginx.url}/api/token?user=omar`)).json()) as { token: string };
    const refusal = await TestClient.refusal(nginx.url, { token, headers: { Origin: nginx.url } });
    expect(refusal.status).toBe(403);
    const warning = await sample.waitForOutput(/WARN.*refused with 403: (.*)/);
    expect(warning[1]).toContain(`origin "${nginx.url}" does not match the host "127.0.0.1"`);
  }, 60_000);
});
