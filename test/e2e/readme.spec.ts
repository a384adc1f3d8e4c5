import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SignJWT } from 'jose';
import { ErrorCode, FailureCode } from 'nestjs-realtime';
import type { WebSocket } from 'ws';
import { joinLobby } from '../quickstart/client.js';
import { chatInLobby } from '../quickstart/sdk-client.js';
import type { Frame } from '../support/test-client.js';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('README', () => {
  it.each(['room.channel.ts', 'app.module.ts', 'client.ts', 'sdk-client.ts', 'room.channel.spec.ts'])(
    'shows test/quickstart/%s verbatim',
    (file) => {
      const source = readFileSync(new URL(`test/quickstart/${file}`, root), 'utf8').trimEnd();
      expect(readme).toContain(source);
    },
  );

  it.each(['persist-messages.interceptor.ts', 'require-user.guard.ts'])('shows test/examples/%s verbatim', (file) => {
    const source = readFileSync(new URL(`test/examples/${file}`, root), 'utf8').trimEnd();
    expect(readme).toContain(source);
  });

  it('has the deployment guide show the nginx configuration the suite runs, verbatim', () => {
    const guide = readFileSync(new URL('docs/deployment.md', root), 'utf8');
    expect(guide).toContain(readFileSync(new URL('docs/nginx.conf', root), 'utf8').trimEnd());
    expect(readme).toContain('(docs/deployment.md)');
  });

  it('lists every error code exactly once in its table', () => {
    const rows = readme.split('\n').filter((line) => /^\| `[A-Z_]+` +\|/.test(line));
    const codes = rows.map((line) => /^\| `([A-Z_]+)`/.exec(line)?.[1]);
    expect(codes.sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('names every failure code in the table of OnRealtimeError failures', () => {
    const table = readme.slice(readme.indexOf('### Failures, in one place'), readme.indexOf('## Security'));
    for (const code of Object.values(FailureCode)) {
      expect(table).toContain(`\`${code}\``);
    }
  });
});

/** A token the quickstart app accepts, as the app's login route would sign it. */
function signToken(sub: string): Promise<string> {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(process.env.JWT_SECRET));
}

describe('quickstart', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    process.env.JWT_SECRET = 'a-quickstart-test-secret-of-32-bytes';
    const { AppModule } = await import('../quickstart/app.module.js');
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('http', 'ws');
  });

  afterAll(async () => {
    await app.close();
    delete process.env.JWT_SECRET;
  });

  it('works when pasted: the client joins the lobby, chats and gets its ack', async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const token = await signToken('alice');
    const socket: WebSocket = joinLobby(url, token);
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
    expect(frames[2]).toMatchObject({ channel: 'room:lobby', sender: 'alice', payload: { text: 'hi' } });
    expect(ack.payload).toEqual({ id: frames[2].id });
    socket.close();
  });

  it('works through the client SDK: connects, joins, chats, and gets the ack', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    log.mockClear();
    const token = await signToken('bob');
    const client = await chatInLobby(url, token);
    const lines = log.mock.calls.map((call) => call.map((part) => JSON.stringify(part)).join(' '));
    client.close();
    expect(lines[0]).toBe('"closed -> connecting"');
    expect(lines[1]).toBe('"connecting -> connected"');
    expect(lines.find((line) => line.startsWith('"acked"'))).toMatch(/^"acked" \{"id":"m_/);
    expect(lines).toContain('"bob" {"text":"hi"}');
  });

  it('refuses a handshake without a valid token', async () => {
    const { TestClient } = await import('../support/test-client.js');
    expect((await TestClient.refusal(url.replace('ws', 'http'), { token: 'nope' })).status).toBe(401);
  });
});
