import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { RealtimeTesting } from 'nestjs-realtime/testing';
import { AppModule } from './app.module.js';

describe('RoomChannel', () => {
  let rt: RealtimeTesting;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    // In process: no port, same pipeline. { transport: 'socket' } runs the same tests over a real socket.
    rt = await RealtimeTesting.create(moduleRef);
  });

  afterEach(() => rt.close());

  it('broadcasts a chat message to the room, and acks with its id', async () => {
    const alice = await rt.connect({ userId: 'alice' }); // skips the JWT check; { token } runs it
    const bob = await rt.connect({ userId: 'bob' });
    await alice.subscribe('room:lobby');
    await bob.subscribe('room:lobby');

    const ack = await alice.request('chat:group', { text: 'hi' }, { channel: 'room:lobby' });

    const received = await bob.expectMessage('chat:group', { text: 'hi' });
    expect(received.sender).toBe('alice');
    expect(ack).toEqual({ id: received.id });
    await rt.expectBroadcast('room:lobby', 'chat:group', { text: 'hi' });
  });

  it('keeps the staff room for the admin', async () => {
    const bob = await rt.connect({ userId: 'bob' });
    await expect(bob.subscribe('room:staff')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const admin = await rt.connect({ userId: 'admin' });
    await expect(admin.subscribe('room:staff')).resolves.toBeDefined();
  });

  it('refuses an invalid message, and nobody gets it', async () => {
    const alice = await rt.connect({ userId: 'alice' });
    await alice.subscribe('room:lobby');
    await expect(alice.request('chat:group', { text: '' }, { channel: 'room:lobby' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await alice.expectNoMessage('chat:group');
  });
});
