import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Parser } from '@asyncapi/parser';
import { isError } from '../support/asyncapi.js';
import { Module } from '@nestjs/common';
import { IsIn, IsString, Length } from 'class-validator';
import {
  Channel,
  OnMessage,
  Payload,
  RealtimeAsyncApi,
  RealtimeModule,
  type RealtimeModuleOptions,
  jwtAuth,
} from 'nestjs-realtime';
import { z } from 'zod';
import { PLATFORMS, type Platform, type TestApp, startApp } from '../support/create-app.js';

class ChatMessage {
  @IsString()
  @Length(1, 500)
  text!: string;
}

class Status {
  @IsIn(['online', 'away'])
  status!: string;
}

const Reaction = z.object({ emoji: z.string().max(8), messageId: z.string() });

@Channel('room:{roomId}', { public: true, presence: true, history: 50, whispers: true })
class RoomChannel {
  @OnMessage('chat:group')
  send(@Payload() message: ChatMessage): object {
    return message;
  }

  @OnMessage('presence:status')
  status(@Payload() status: Status): object {
    return status;
  }

  @OnMessage('reaction')
  react(@Payload(Reaction) reaction: z.infer<typeof Reaction>): object {
    return reaction;
  }
}

@Channel('events:{name...}', { public: true })
class EventsChannel {}

@Channel('game:*:moves', { public: true })
class GameChannel {
  @OnMessage('move')
  move(@Payload() move: unknown): unknown {
    return move;
  }
}

@Channel()
class Pings {
  @OnMessage('ping:app')
  @OnMessage('ping:alias')
  ping(): string {
    return 'pong';
  }
}

const SECRET = 'an-asyncapi-test-secret-of-32-bytes!';

function appModule(options: Partial<RealtimeModuleOptions>) {
  @Module({
    imports: [RealtimeModule.forRoot({ authenticate: jwtAuth({ secret: SECRET }), ...options })],
    providers: [RoomChannel, EventsChannel, GameChannel, Pings],
  })
  class AsyncApiModule {}
  return AsyncApiModule;
}

interface Document {
  channels: Record<string, { address: string | null; messages: Record<string, unknown> }>;
  operations: Record<string, { action: string; messages: { $ref: string }[] }>;
  components: { messages: Record<string, { name: string; payload: { properties: Record<string, unknown> } }> };
}

describe.each(PLATFORMS)('the AsyncAPI document (%s)', (platform: Platform) => {
  let server: TestApp;
  let served: Document;

  beforeAll(async () => {
    server = await startApp(
      appModule({ asyncapi: { title: 'Chat', version: '2.1.0', description: 'The chat rooms' } }),
      platform,
    );
    const response = await fetch(`${server.url}/asyncapi.json`);
    expect(response.status).toBe(200);
    served = (await response.json()) as Document;
  });

  afterAll(async () => {
    await server?.app.close();
  });

  it('is valid AsyncAPI 3.0, for the official parser', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(served));
    const errors = diagnostics.filter((diagnostic) => isError(diagnostic));
    expect(errors.map((error) => `${error.path.join('.')}: ${error.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    expect(document?.info().title()).toBe('Chat');
    expect(document?.info().version()).toBe('2.1.0');
  });

  it('declares every channel and every handled message type, each answered by ack or error', async () => {
    expect(Object.values(served.channels).map((channel) => channel.address)).toEqual(
      expect.arrayContaining(['room:{roomId}', 'events:{name}', 'game:{segment1}:moves', null]),
    );
    const { document } = await new Parser().parse(JSON.stringify(served));
    const received = document!
      .operations()
      .all()
      .filter((operation) => operation.action() === 'receive')
      .flatMap((operation) =>
        operation
          .messages()
          .all()
          .map((message) => message.name()),
      );
    for (const type of [
      'chat:group',
      'presence:status',
      'reaction',
      'move',
      'ping:app',
      'ping:alias',
      'subscribe',
      'whisper',
    ]) {
      expect(received).toContain(type);
    }
    const chat = document!.operations().get('RoomChannel.send');
    expect(
      chat
        ?.reply()
        ?.messages()
        .all()
        .map((message) => message.name()),
    ).toEqual(['ack', 'error']);
  });

  it("describes payloads from the DTOs' decorators and from Standard Schemas, and the error codes", async () => {
    const document = await server.app.get(RealtimeAsyncApi).document();
    expect(document).toEqual(served);
    const text = JSON.stringify(served);
    expect(text).toContain('"ChatMessage":{');
    expect(served.components.messages.chat_group.payload.properties.payload).toEqual({
      $ref: '#/components/schemas/ChatMessage',
    });
    expect((served.components as unknown as { schemas: Record<string, unknown> }).schemas.ChatMessage).toMatchObject({
      properties: { text: { type: 'string', minLength: 1, maxLength: 500 } },
      required: ['text'],
    });
    expect(served.components.messages.reaction.payload.properties.payload).toMatchObject({
      type: 'object',
      properties: { emoji: { type: 'string', maxLength: 8 }, messageId: { type: 'string' } },
    });
    expect(text).toContain('"VALIDATION_FAILED"');
    expect(text).toContain('"scheme":"bearer"');
    expect(served.components.messages.presenceDiff.name).toBe('system:presence_diff');
  });
});

describe('without the asyncapi option', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp(appModule({}));
  });

  afterAll(async () => {
    await server?.app.close();
  });

  it('serves nothing, while the document stays available to code', async () => {
    expect((await fetch(`${server.url}/asyncapi.json`)).status).toBe(404);
    expect(await server.app.get(RealtimeAsyncApi).document()).toMatchObject({ asyncapi: '3.0.0' });
  });
});
