import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { rejectHandshake } from '../server/reject-handshake.js';

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

type Emit = Server['emit'];

const FALLBACK = Symbol('realtime:upgrade-fallback');
type Listener = ((request: IncomingMessage, socket: Duplex) => void) & { [FALLBACK]?: true };

/**
 * Takes the HTTP server's `upgrade` requests for one path, and only those.
 *
 * Other `upgrade` listeners may be on the same server, and some end every request they do not own at once (Nest's
 * platform-ws `WsAdapter` destroys the socket of any path it did not register). Since every listener of an event
 * sees every request, this intercepts the event itself: requests for `path` go to `handle` alone; the rest reach
 * the server's listeners as before. When no one else listens, requests for other paths get 404.
 * Returns a function that restores the server.
 *
 * The reach: it replaces the server's `emit`, the one way to see an event before every listener does. Its contract
 * test is the platform-ws case of `test/e2e/module.spec.ts` (a Nest `WsAdapter` gateway on the same server).
 */
export function interceptUpgrades(server: Server, path: string, handle: UpgradeHandler): () => void {
  let active = true;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the server as `this` below
  const originalEmit = server.emit;
  const patchedEmit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (active && event === 'upgrade' && pathOf(args[0] as IncomingMessage) === path) {
      handle(args[0] as IncomingMessage, args[1] as Duplex, args[2] as Buffer);
      return true;
    }
    return (originalEmit as (...all: unknown[]) => boolean).call(this, event, ...args);
  } as Emit;
  server.emit = patchedEmit;

  // Node emits `upgrade` only when the server has a listener for it: this one also answers the requests for other
  // paths when no other kind of listener is there (the first of several realtime endpoints answers).
  const fallback: Listener = (request: IncomingMessage, socket: Duplex): void => {
    const listeners = server.listeners('upgrade') as unknown as Listener[];
    if (listeners.every((listener) => listener[FALLBACK]) && listeners[0] === fallback) {
      rejectHandshake(socket, 404, `No WebSocket endpoint at ${pathOf(request) ?? 'this path'}`);
    }
  };
  fallback[FALLBACK] = true;
  server.on('upgrade', fallback);

  return () => {
    active = false;
    server.off('upgrade', fallback);
    // Someone may have wrapped emit after us; then our wrapper stays in their chain, inactive.
    if (server.emit === patchedEmit) {
      server.emit = originalEmit;
    }
  };
}

function pathOf(request: IncomingMessage): string | undefined {
  const url = request.url;
  if (url === undefined) {
    return undefined;
  }
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
