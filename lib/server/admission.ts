import type { IncomingMessage } from 'node:http';
import { FailureCode } from '../errors/realtime-failure.js';
import type { ResolvedProtectionOptions } from '../protection/protection.options.js';
import { forwardedHost } from './forwarded-host.js';

/** A handshake the module refuses itself: the HTTP status and message, and the code `OnRealtimeError` gets. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly code: FailureCode;
  /** For the log only: what was compared (the origin and the host it did not match). */
  readonly detail?: string;
}

/** Undoes an admission when the handshake fails or the connection ends; safe to call more than once. */
export type Release = () => void;

/**
 * Decides, before any authentication work, whether a handshake may proceed: the origin check (403) and the caps on
 * connections in total (503) and per IP address (429). Handshakes in progress count, so a flood of slow handshakes
 * is capped too.
 */
export class Admission {
  #total = 0;
  readonly #perIp = new Map<string, number>();
  /** `allowedOrigins` as browsers send origins (lower-case host, no default port), when it is a list. */
  readonly #allowed: ReadonlySet<string> | undefined;

  constructor(private readonly options: ResolvedProtectionOptions) {
    const { allowedOrigins } = options;
    this.#allowed = Array.isArray(allowedOrigins) ? new Set(allowedOrigins.map(normalOrigin)) : undefined;
  }

  /** `ip`: the client's address (see `trustProxy`). */
  admit(request: IncomingMessage, ip: string): Release | Refusal {
    const originRefusal = this.#checkOrigin(request);
    if (originRefusal !== undefined) {
      return originRefusal;
    }
    const { maxConnections, maxConnectionsPerIp } = this.options;
    if (maxConnections > 0 && this.#total >= maxConnections) {
      return { status: 503, message: 'Server is at its connection limit', code: FailureCode.SERVER_FULL };
    }
    if (maxConnectionsPerIp === 0) {
      // No cap per address: no count per address either.
      this.#total++;
      return this.#release(undefined);
    }
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp >= maxConnectionsPerIp) {
      return {
        status: 429,
        message: 'Too many connections from this address',
        code: FailureCode.TOO_MANY_CONNECTIONS,
      };
    }
    this.#total++;
    this.#perIp.set(ip, fromIp + 1);
    return this.#release(ip);
  }

  /** The release of one admission: the total, and the count of its address when addresses are capped. */
  #release(ip: string | undefined): Release {
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      this.#total--;
      if (ip === undefined) {
        return;
      }
      const left = (this.#perIp.get(ip) ?? 1) - 1;
      if (left === 0) {
        this.#perIp.delete(ip);
      } else {
        this.#perIp.set(ip, left);
      }
    };
  }

  #checkOrigin(request: IncomingMessage): Refusal | undefined {
    const origin = request.headers.origin;
    if (origin === undefined || origin === '') {
      return this.options.allowMissingOrigin ? undefined : originRefused('An Origin header is required');
    }
    const { allowedOrigins } = this.options;
    if (allowedOrigins === undefined) {
      // The host the browser addressed: the Host header, or what a trusted proxy says it received (a proxy that
      // sets `Host $host` drops the port the page was loaded from).
      const hosts = [request.headers.host, forwardedHost(request, this.options.trustProxy)].filter(
        (host): host is string => host !== undefined,
      );
      if (hosts.some((host) => sameHost(origin, host))) {
        return undefined;
      }
      const compared = hosts.length === 0 ? 'no Host header' : `the host ${hosts.map((h) => `"${h}"`).join(' or ')}`;
      return originRefused('Origin not allowed', `origin "${origin}" does not match ${compared}`);
    }
    let allowed: boolean;
    if (typeof allowedOrigins === 'function') {
      try {
        allowed = allowedOrigins(origin, request) === true;
      } catch {
        allowed = false;
      }
    } else {
      allowed = this.#allowed!.has(normalOrigin(origin));
    }
    return allowed ? undefined : originRefused('Origin not allowed', `origin "${origin}" is not in allowedOrigins`);
  }
}

function originRefused(message: string, detail?: string): Refusal {
  return { status: 403, message, code: FailureCode.ORIGIN_REFUSED, detail };
}

/** An origin as a browser sends it: `https://app.example:443` is `https://app.example`; unparsable ones as given. */
function normalOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}

/** Whether a browser `Origin` names the host (and port) the request was sent to. */
function sameHost(origin: string, host: string): boolean {
  try {
    const from = new URL(origin);
    // Read the Host with the origin's scheme, so default ports compare equal (`example.com` and `example.com:443`).
    return from.host === new URL(`${from.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
