import { describe, expect, it } from '@jest/globals';
import { type CanActivate, Injectable, Module, type Type, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { type CanJoin, Channel, type RealtimeConnection, RealtimeModule, RealtimeOptionsError } from 'nestjs-realtime';
import { RealtimeTesting } from 'nestjs-realtime/testing';

@Injectable()
class SignedInGuard implements CanActivate {
  canActivate(context: Parameters<CanActivate['canActivate']>[0]): boolean {
    return context.switchToWs().getClient<RealtimeConnection>().userId !== null;
  }
}

function appOf(providers: Type[], extra: object[] = []): Promise<RealtimeTesting> {
  @Module({ imports: [RealtimeModule.forRoot()], providers: [...providers, ...(extra as Type[])] })
  class JoinModule {}
  return Test.createTestingModule({ imports: [JoinModule] })
    .compile()
    .then((moduleRef) => RealtimeTesting.create(moduleRef));
}

/** Boots an app of these providers; resolves to the boot error, or fails if it boots. */
async function bootError(providers: Type[]): Promise<unknown> {
  const started = await appOf(providers).then(
    (rt) => rt,
    (error: unknown) => error,
  );
  if (started instanceof RealtimeTesting) {
    await started.close();
    throw new Error('The app booted');
  }
  return started;
}

describe('channels are closed unless opened', () => {
  it('fails the boot of a class with neither canJoin nor guards, naming it and the ways out', async () => {
    @Channel('room:{id}', { presence: true })
    class OpenByOmission {}
    const error = await bootError([OpenByOmission]);
    expect(error).toBeInstanceOf(RealtimeOptionsError);
    expect((error as Error).message).toBe(
      '@Channel("room:{id}") on OpenByOmission has no join check, so anyone could subscribe: add canJoin(client, ' +
        'params) (the CanJoin interface), @UseGuards(...) on the class, or { public: true } to open it to everyone',
    );
  });

  it.each(['canjoin', 'canJion', 'CanJoin', 'canJoins'])(
    'fails the boot of a method named %s, even when public',
    async (name) => {
      class Misnamed {}
      Object.defineProperty(Misnamed.prototype, name, { value: () => true, writable: true, configurable: true });
      Channel('room:{id}', { public: true })(Misnamed);
      const error = await bootError([Misnamed]);
      expect(error).toBeInstanceOf(RealtimeOptionsError);
      expect((error as Error).message).toBe(
        `Misnamed.${name} looks like the join check but is never called: name it canJoin`,
      );
    },
  );

  it('opens a channel said to be public to everyone, visitors included', async () => {
    @Channel('news:{topic}', { public: true })
    class News {}
    const rt = await appOf([News]);
    const visitor = await rt.connect({ userId: null });
    await expect(visitor.subscribe('news:sports')).resolves.toEqual({});
    await rt.close();
  });

  it('lets canJoin decide (the CanJoin interface, with the pattern params typed)', async () => {
    @Channel('room:{roomId}')
    class Rooms implements CanJoin<{ roomId: string }> {
      canJoin(client: RealtimeConnection, { roomId }: { roomId: string }): boolean {
        return roomId !== 'staff' || client.userId === 'admin';
      }
    }
    const rt = await appOf([Rooms]);
    const bob = await rt.connect({ userId: 'bob' });
    await expect(bob.subscribe('room:lobby')).resolves.toBeDefined();
    await expect(bob.subscribe('room:staff')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await rt.close();
  });

  it("lets the class's guards decide", async () => {
    @UseGuards(SignedInGuard)
    @Channel('inbox:{id}')
    class Inbox {}
    const rt = await appOf([Inbox]);
    await expect((await rt.connect({ userId: 'amy' })).subscribe('inbox:1')).resolves.toBeDefined();
    await expect((await rt.connect({ userId: null })).subscribe('inbox:1')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await rt.close();
  });

  it("lets the app's global guards decide", async () => {
    @Channel('team:{id}')
    class Team {}
    const rt = await appOf([Team], [{ provide: APP_GUARD, useClass: SignedInGuard }]);
    await expect((await rt.connect({ userId: null })).subscribe('team:1')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await rt.close();
  });

  it('refuses a public option that is not a boolean, naming it', () => {
    expect(() => Channel('room:{id}', { public: 'yes' as unknown as boolean })(class {})).toThrow(
      '@Channel("room:{id}") options: "public" must be a boolean, got "yes"',
    );
  });
});
