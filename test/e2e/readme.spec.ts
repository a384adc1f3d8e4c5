import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CloseCode, ErrorCode, FailureCode } from 'nestjs-realtime';
import type { WebSocket } from 'ws';
import { joinLobby } from '../quickstart/client.js';
import { chatInLobby } from '../quickstart/sdk-client.js';
import { type Frame, TestClient } from '../support/test-client.js';
import { waitUntil } from '../support/wait-until.js';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const doc = (name: string) => readFileSync(new URL(`docs/${name}`, root), 'utf8');
const source = (path: string) => readFileSync(new URL(path, root), 'utf8').trimEnd();

describe('README and docs/', () => {
  it.each(['room.channel.ts', 'app.module.ts', 'token.controller.ts', 'main.ts', 'sdk-client.ts'])(
    'the README shows test/quickstart/%s verbatim',
    (file) => {
      expect(readme).toContain(source(`test/quickstart/${file}`));
    },
  );

  it.each([
    ['test/quickstart/client.ts', 'protocol.md'],
    ['test/quickstart/room.channel.spec.ts', 'testing.md'],
    ['test/examples/persist-messages.interceptor.ts', 'channels.md'],
    ['test/examples/require-user.guard.ts', 'channels.md'],
    ['docs/nginx.conf', 'deployment.md'],
  ])('shows %s verbatim in docs/%s', (file, page) => {
    expect(doc(page)).toContain(source(file));
  });

  it('lists every error code exactly once in its table', () => {
    const rows = doc('protocol.md')
      .split('\n')
      .filter((line) => /^\| `[A-Z_]+` +\|/.test(line));
    const codes = rows.map((line) => /^\| `([A-Z_]+)`/.exec(line)?.[1]);
    expect(codes.sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('lists every close code exactly once in its table', () => {
    const rows = doc('protocol.md')
      .split('\n')
      .filter((line) => /^\| +\d{4} \| `[A-Z_]+` +\|/.test(line));
    const documented = rows.map((line) => /^\| +(\d{4}) \| `([A-Z_]+)`/.exec(line)!.slice(1));
    expect(documented.map(([code, name]) => [name, Number(code)]).sort()).toEqual(Object.entries(CloseCode).sort());
  });

  it('names every failure code in the table of OnRealtimeError failures', () => {
    const protocol = doc('protocol.md');
    const table = protocol.slice(protocol.indexOf('Failures, in one place'));
    for (const code of Object.values(FailureCode)) {
      expect(table).toContain(`\`${code}\``);
    }
  });

  it('links the deployment guide', () => {
    expect(readme).toContain('(docs/deployment.md)');
  });
});

/**
 * The quickstart as its reader runs it: `main.ts` boots the app (on a free port here), the token route signs a token,
 * the client SDK snippet connects, joins, chats and gets its ack.
 */
describe('quickstart', () => {
  let app: INestApplication | undefined;
  let url: string;
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);

  beforeAll(async () => {
    process.env.PORT = '0';
    const create = jest.spyOn(NestFactory, 'create');
    await import('../quickstart/main.js');
    // main.ts logs where it listens once it does.
    expect(await waitUntil(() => log.mock.calls.some(([line]) => String(line).startsWith('Listening on')))).toBe(true);
    app = (await create.mock.results[0].value) as INestApplication;
    create.mockRestore();
    url = String(log.mock.calls.find(([line]) => String(line).startsWith('Listening on'))![0]).slice(13);
  });

  afterAll(async () => {
    await app?.close();
    delete process.env.PORT;
    log.mockRestore();
  });

  it('works through the client SDK: connects with a token from the route, joins, chats, and gets the ack', async () => {
    log.mockClear();
    const client = await chatInLobby(url);
    const lines = log.mock.calls.map((call) => call.map((part) => JSON.stringify(part)).join(' '));
    client.close();
    expect(lines[0]).toBe('"closed -> connecting"');
    expect(lines[1]).toBe('"connecting -> connected"');
    expect(lines).toContain('"alice" {"text":"hi"}');
    expect(lines.find((line) => line.startsWith('"acked"'))).toMatch(/^"acked" \{"id":"m_/);
  });

  it('works with a plain WebSocket client too (docs/protocol.md)', async () => {
    const { token } = (await (await fetch(`${url}/token?user=bob`)).json()) as { token: string };
    const socket: WebSocket = joinLobby(url.replace('http', 'ws'), token);
    const frames: Frame[] = [];
    const ack = await new Promise<Frame>((resolve) => {
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as Frame;
        frames.push(frame);
        if (frame.type === 'ack' && frame.replyTo === 2) {
          resolve(frame);
        }
      });
    });
    expect(frames.map((frame) => frame.type)).toEqual(['system:welcome', 'subscribed', 'chat:group', 'ack']);
    expect(frames[2]).toMatchObject({ channel: 'room:lobby', sender: 'bob', payload: { text: 'hi' } });
    expect(ack.payload).toEqual({ id: frames[2].id });
    socket.close();
  });

  it('refuses a handshake without a valid token, and the token route a bad name', async () => {
    expect((await TestClient.refusal(url, { token: 'nope' })).status).toBe(401);
    expect((await fetch(`${url}/token?user=${encodeURIComponent('no spaces')}`)).status).toBe(400);
  });
});
