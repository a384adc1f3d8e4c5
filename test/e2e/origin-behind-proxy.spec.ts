import { describe, expect, it } from '@jest/globals';
import { Module, type Type } from '@nestjs/common';
import { RealtimeModule, type RealtimeModuleOptions } from 'nestjs-realtime';
import { kitAroundSuite } from '../support/kit.js';

function moduleWith(options: RealtimeModuleOptions): Type {
  @Module({ imports: [RealtimeModule.forRoot(options)] })
  class OriginModule {}
  return OriginModule;
}

const refused = { code: 'HANDSHAKE_REFUSED', status: 403 };

/** A page served at http://localhost:8088 through a proxy that forwards `Host: localhost` (nginx's `$host`). */
const page = 'http://localhost:8088';

describe('the origin check behind a reverse proxy, no proxy trusted (the default)', () => {
  const kit = kitAroundSuite(moduleWith({}), 'in-process');

  it('refuses a page whose port the proxy dropped from Host, and says why at WARN, once in a burst', async () => {
    await expect(kit.rt.connect({ headers: { origin: page, host: 'localhost' } })).rejects.toMatchObject(refused);
    await expect(kit.rt.connect({ headers: { origin: page, host: 'localhost' } })).rejects.toMatchObject(refused);
    const warnings = kit.logger.entries.filter((entry) => entry.level === 'warn' && entry.message.includes('403'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain('origin "http://localhost:8088" does not match the host "localhost"');
    expect(warnings[0].message).toContain('$http_host');
  });

  it('ignores X-Forwarded-Host from an untrusted hop', async () => {
    await expect(
      kit.rt.connect({ headers: { origin: page, host: 'localhost', 'x-forwarded-host': 'localhost:8088' } }),
    ).rejects.toMatchObject(refused);
  });

  it('compares as browsers do: a default port equals none', async () => {
    await expect(
      kit.rt.connect({ headers: { origin: 'https://chat.example', host: 'chat.example:443' } }),
    ).resolves.toBeDefined();
    await expect(
      kit.rt.connect({ headers: { origin: 'http://chat.example', host: 'chat.example:80' } }),
    ).resolves.toBeDefined();
    await expect(
      kit.rt.connect({ headers: { origin: 'http://chat.example', host: 'chat.example:443' } }),
    ).rejects.toMatchObject(refused);
  });
});

describe('the origin check behind one trusted proxy', () => {
  const kit = kitAroundSuite(moduleWith({ trustProxy: 1 }), 'in-process');

  it('accepts the page when the proxy forwards the host it received in X-Forwarded-Host', async () => {
    await expect(
      kit.rt.connect({ headers: { origin: page, host: 'localhost', 'x-forwarded-host': 'localhost:8088' } }),
    ).resolves.toBeDefined();
  });

  it('accepts the page when the proxy says so in Forwarded (RFC 7239)', async () => {
    const forwarded = 'for=192.0.2.60;proto=http;host="localhost:8088"';
    await expect(kit.rt.connect({ headers: { origin: page, host: 'localhost', forwarded } })).resolves.toBeDefined();
  });

  it('trusts only the entry the trusted proxy appended, never what the client put before it', async () => {
    const spoofed = 'evil.example, localhost:8088';
    await expect(
      kit.rt.connect({ headers: { origin: 'http://evil.example', host: 'localhost', 'x-forwarded-host': spoofed } }),
    ).rejects.toMatchObject(refused);
    await expect(
      kit.rt.connect({ headers: { origin: page, host: 'localhost', 'x-forwarded-host': spoofed } }),
    ).resolves.toBeDefined();
  });
});

describe('allowedOrigins', () => {
  const kit = kitAroundSuite(moduleWith({ allowedOrigins: ['https://APP.example:443'] }), 'in-process');

  it('matches listed origins as browsers send them (lower-case host, no default port)', async () => {
    await expect(kit.rt.connect({ headers: { origin: 'https://app.example' } })).resolves.toBeDefined();
    await expect(kit.rt.connect({ headers: { origin: 'https://app.example:8443' } })).rejects.toMatchObject(refused);
    const warning = kit.logger.entries.find((entry) => entry.level === 'warn' && entry.message.includes('403'));
    expect(warning?.message).toContain('origin "https://app.example:8443" is not in allowedOrigins');
  });
});
