// A CommonJS Nest 11 app using the packed library through Node's require(esm): run by test/compat/nest11.sh.
// Plain JavaScript, so decorators are applied by hand. Exits 0 when every answer is the expected one.
require('reflect-metadata');
const { Module, Injectable, UseGuards, UseFilters, Catch, ValidationPipe } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { IsString } = require('class-validator');
const { WebSocket } = require('ws');
const rt = require('nestjs-realtime');
const { ThrottlerGuard, ThrottlerModule } = require('@nestjs/throttler');

// @nestjs/throttler's WebSocket recipe: track by the realtime client instead of an HTTP request.
class WsThrottlerGuard extends ThrottlerGuard {
  async handleRequest({ context, limit, ttl, throttler, blockDuration, generateKey }) {
    const client = context.switchToWs().getClient();
    const key = generateKey(context, client.userId ?? client.id, throttler.name);
    const record = await this.storageService.increment(key, ttl, limit, blockDuration, throttler.name);
    if (record.isBlocked) {
      await this.throwThrottlingException(context, { limit, ttl, key, tracker: client.id, ...record });
    }
    return true;
  }
}
Injectable()(WsThrottlerGuard);

class Dto {}
Reflect.decorate([IsString()], Dto.prototype, 'text');

class DenyGuard {
  canActivate() {
    return false;
  }
}
class Teapot extends Error {}
class TeapotFilter {
  catch() {
    return { filtered: true };
  }
}
Catch(Teapot)(TeapotFilter);

class Echo {
  echo(payload) {
    return payload;
  }
  validated(dto) {
    return dto.text;
  }
  denied() {
    return 'never';
  }
  boom() {
    throw new Error('secret');
  }
  teapot() {
    throw new Teapot();
  }
  throttled() {
    return 'ok';
  }
  compiled(dto) {
    return dto;
  }
}
const method = (name, decorators) =>
  Reflect.decorate(decorators, Echo.prototype, name, Object.getOwnPropertyDescriptor(Echo.prototype, name));
rt.Payload()(Echo.prototype, 'echo', 0);
method('echo', [rt.OnMessage('echo')]);
rt.Payload(new ValidationPipe())(Echo.prototype, 'validated', 0);
Reflect.defineMetadata('design:paramtypes', [Dto], Echo.prototype, 'validated');
method('validated', [rt.OnMessage('validated')]);
method('denied', [rt.OnMessage('denied'), UseGuards(DenyGuard)]);
method('boom', [rt.OnMessage('boom')]);
method('teapot', [rt.OnMessage('teapot'), UseFilters(TeapotFilter)]);
method('throttled', [rt.OnMessage('throttled'), UseGuards(WsThrottlerGuard)]);
// The module's compiled validation (the `validation` option), on Nest 11's ValidationPipe.
rt.Payload()(Echo.prototype, 'compiled', 0);
Reflect.defineMetadata('design:paramtypes', [Dto], Echo.prototype, 'compiled');
method('compiled', [rt.OnMessage('compiled')]);
rt.Channel()(Echo);

class AppModule {}
Module({
  imports: [
    ThrottlerModule.forRoot([{ ttl: 60_000, limit: 2 }]),
    rt.RealtimeModule.forRoot({ authenticate: () => ({ userId: 'u1' }), validation: { whitelist: true } }),
  ],
  providers: [Echo],
})(AppModule);

(async () => {
  const errors = [];
  const app = await NestFactory.create(AppModule, {
    logger: { log() {}, warn() {}, debug() {}, verbose() {}, error: (m) => errors.push(String(m)) },
  });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('http', 'ws') + '/realtime';
  const ws = new WebSocket(url, 'realtime.v1');
  const frames = [];
  const replies = new Map();
  ws.on('message', (d) => {
    const f = JSON.parse(String(d));
    frames.push(f);
    if (f.replyTo) replies.get(f.replyTo)?.(f);
  });
  await new Promise((r) => ws.once('open', r));
  const req = (frame) =>
    new Promise((r) => {
      replies.set(frame.id, r);
      ws.send(JSON.stringify(frame));
    });
  const results = {
    echo: await req({ type: 'echo', id: 'a', payload: 'hi' }),
    validatedOk: await req({ type: 'validated', id: 'b', payload: { text: 'x' } }),
    validatedBad: await req({ type: 'validated', id: 'c', payload: { text: 1 } }),
    denied: await req({ type: 'denied', id: 'd' }),
    boom: await req({ type: 'boom', id: 'e' }),
    teapot: await req({ type: 'teapot', id: 'f' }),
    throttled: [
      await req({ type: 'throttled', id: 'g1' }),
      await req({ type: 'throttled', id: 'g2' }),
      await req({ type: 'throttled', id: 'g3' }),
    ].map((frame) => frame.error?.code ?? frame.type),
    compiledOk: await req({ type: 'compiled', id: 'h', payload: { text: 'x', extra: 1 } }),
    compiledBad: await req({ type: 'compiled', id: 'i', payload: { text: 1 } }),
  };
  // The testing kit on Nest 11, in process: the same pipeline without a socket.
  const { RealtimeTesting } = require('nestjs-realtime/testing');
  const kit = await RealtimeTesting.create(app);
  const tester = await kit.connect({ userId: 'tester' });
  results.kitEcho = await tester.request('echo', 'in process');
  results.kitDenied = await tester.request('denied').catch((error) => error.code);
  await kit.close();
  console.log(
    JSON.stringify(
      { nest: require('@nestjs/core/package.json').version, welcome: frames[0].type, results, errors: errors.length },
      null,
      1,
    ),
  );
  const ok =
    results.echo.payload === 'hi' &&
    results.validatedOk.payload === 'x' &&
    results.validatedBad.error.code === 'VALIDATION_FAILED' &&
    results.denied.error.code === 'FORBIDDEN' &&
    results.boom.error.code === 'INTERNAL' &&
    results.teapot.payload?.filtered === true &&
    results.throttled.join() === 'ack,ack,RATE_LIMITED' &&
    JSON.stringify(results.compiledOk.payload) === '{"text":"x"}' &&
    results.compiledBad.error.code === 'VALIDATION_FAILED' &&
    results.kitEcho === 'in process' &&
    results.kitDenied === 'FORBIDDEN' &&
    errors.length === 1;
  ws.close();
  await app.close();
  process.exit(ok ? 0 : 1);
})();
