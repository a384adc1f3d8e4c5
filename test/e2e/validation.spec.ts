import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CanActivate, Injectable, Module, UseGuards } from '@nestjs/common';
import { type } from 'arktype';
import { Type } from 'class-transformer';
import { IsInt, IsString, Length, Min, ValidateNested } from 'class-validator';
import { Channel, OnMessage, Payload, RealtimeModule } from 'nestjs-realtime';
import * as v from 'valibot';
import { z } from 'zod';
import { type TestApp, startApp } from '../support/create-app.js';
import { tokenIsUserId } from '../support/fixtures.js';
import { TestClient } from '../support/test-client.js';

class ChatMessage {
  @IsString()
  @Length(1, 10)
  text!: string;
}

/** Nested validation: stays on class-validator's own path, and says so at boot. */
class Forward {
  @ValidateNested()
  @Type(() => ChatMessage)
  message!: ChatMessage;
}

class Vote {
  @IsInt()
  @Min(1)
  option!: number;
}

@Injectable()
class NobodyGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

const ZodMessage = z.object({ text: z.string().min(1).max(10), sentAt: z.coerce.number().default(0) });
const ValibotMessage = v.object({ text: v.pipe(v.string(), v.minLength(1)) });
const ArkMessage = type({ text: 'string > 0' });

@Channel('room:{id}', { public: true })
class RoomChannel {
  @OnMessage('chat')
  chat(@Payload() message: ChatMessage): unknown {
    return { received: message, isInstance: message instanceof ChatMessage };
  }

  @OnMessage('forward')
  forward(@Payload() forward: Forward): unknown {
    return forward;
  }

  @OnMessage('vote')
  @UseGuards(NobodyGuard)
  vote(@Payload() vote: Vote): unknown {
    return vote;
  }

  @OnMessage('zod')
  zod(@Payload(ZodMessage) message: z.output<typeof ZodMessage>): unknown {
    return message;
  }

  @OnMessage('valibot')
  valibot(@Payload(ValibotMessage) message: v.InferOutput<typeof ValibotMessage>): unknown {
    return message;
  }

  @OnMessage('arktype')
  arktype(@Payload(ArkMessage) message: typeof ArkMessage.infer): unknown {
    return message;
  }
}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId, validation: { whitelist: true } })],
  providers: [RoomChannel, NobodyGuard],
})
class ValidatedModule {}

@Module({
  imports: [RealtimeModule.forRoot({ authenticate: tokenIsUserId })],
  providers: [RoomChannel, NobodyGuard],
})
class UnvalidatedModule {}

describe('validation: true compiles the payload DTOs and validates every realtime payload', () => {
  let server: TestApp;
  let alice: TestClient;

  beforeAll(async () => {
    server = await startApp(ValidatedModule);
    alice = await TestClient.connect(server.url, { token: 'alice' });
    await alice.subscribe('room:1');
  });

  afterAll(async () => {
    await alice?.close();
    await server?.app.close();
  });

  const send = (type: string, payload: unknown) => alice.request({ type, channel: 'room:1', payload });

  it('passes a valid payload, without the properties its DTO does not declare (whitelist)', async () => {
    const ack = await send('chat', { text: 'hello', admin: true });
    expect(ack.payload).toEqual({ received: { text: 'hello' }, isInstance: false });
  });

  it('answers an invalid payload VALIDATION_FAILED, listing each failed rule', async () => {
    const error = await send('chat', { text: 'far too long for this' });
    expect(error).toMatchObject({
      type: 'error',
      error: {
        code: 'VALIDATION_FAILED',
        details: { errors: ['text must be shorter than or equal to 10 characters'] },
      },
    });
    expect((await send('chat', 'not an object')).error).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('validates a DTO that falls back on class-validator all the same, and names it at boot', async () => {
    expect((await send('forward', { message: { text: '' } })).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { errors: ['message.text must be longer than or equal to 1 characters'] },
    });
    expect((await send('forward', { message: { text: 'hi' } })).payload).toEqual({ message: { text: 'hi' } });
    expect(server.logger.find('log', 'Forward is validated by class-validator on each message')).toBeDefined();
    expect(server.logger.find('log', 'ChatMessage is validated by class-validator')).toBeUndefined();
  });

  it('runs guards before validation, as Nest does', async () => {
    expect((await send('vote', { option: 'none' })).error).toMatchObject({ code: 'FORBIDDEN' });
  });

  it.each([
    ['zod', { text: 'hi', sentAt: '12' }, { text: 'hi', sentAt: 12 }],
    ['valibot', { text: 'hi', extra: 1 }, { text: 'hi' }],
    ['arktype', { text: 'hi' }, { text: 'hi' }],
  ])('takes a %s schema where a DTO goes, passing on its output', async (kind, payload, output) => {
    expect((await send(kind, payload)).payload).toEqual(output);
    const error = await send(kind, { text: '' });
    expect(error.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    const { errors } = (error.error as { details: { errors: string[] } }).details;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^text: /);
  });
});

describe('without the validation option', () => {
  let server: TestApp;
  let alice: TestClient;

  beforeAll(async () => {
    server = await startApp(UnvalidatedModule);
    alice = await TestClient.connect(server.url, { token: 'alice' });
    await alice.subscribe('room:1');
  });

  afterAll(async () => {
    await alice?.close();
    await server?.app.close();
  });

  it('hands payloads to handlers as they came, and still applies a Standard Schema given to @Payload', async () => {
    const ack = await alice.request({ type: 'chat', channel: 'room:1', payload: { text: '', admin: true } });
    expect(ack.payload).toEqual({ received: { text: '', admin: true }, isInstance: false });
    const error = await alice.request({ type: 'zod', channel: 'room:1', payload: { text: '' } });
    expect(error.error).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
