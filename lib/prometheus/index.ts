import { Counter, Gauge, type Registry, register as defaultRegistry } from 'prom-client';
import type { RealtimeService } from '../service/realtime.service.js';

/** Where `registerRealtimeMetrics` registers the metrics, and under which name prefix. */
export interface RealtimeMetricsOptions {
  /** The registry to add the metrics to. Default: prom-client's global `register`. */
  readonly registry?: Registry;
  /** Prefix of every metric name. Default `realtime_`. */
  readonly prefix?: string;
}

/**
 * Exposes `RealtimeService.stats()` as Prometheus metrics, read at scrape time (nothing is counted twice):
 * connections and channels (gauges); frames in and out per type, errors per code, refused handshakes per status,
 * drops, slow consumers, rate-limit hits, and handler outcomes and time per type (counters). Requires `prom-client`.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class Metrics implements OnModuleInit {
 *   constructor(private readonly realtime: RealtimeService) {}
 *   onModuleInit() {
 *     registerRealtimeMetrics(this.realtime);
 *   }
 * }
 * ```
 */
export function registerRealtimeMetrics(realtime: RealtimeService, options: RealtimeMetricsOptions = {}): void {
  const registry = options.registry ?? defaultRegistry;
  const prefix = options.prefix ?? 'realtime_';
  const registers = [registry];

  new Gauge({
    name: `${prefix}connections`,
    help: 'Open WebSocket connections on this node',
    registers,
    collect() {
      this.set(realtime.stats().connections);
    },
  });
  new Gauge({
    name: `${prefix}channels`,
    help: 'Channels with at least one connection on this node',
    registers,
    collect() {
      this.set(realtime.stats().channels);
    },
  });
  const perKey = (name: string, help: string, label: string, read: () => Readonly<Record<string, number>>) =>
    new Counter({
      name: `${prefix}${name}`,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [key, value] of Object.entries(read())) {
          this.inc({ [label]: key }, value);
        }
      },
    });
  perKey('frames_in_total', 'Valid frames received, per type', 'type', () => realtime.stats().framesIn);
  perKey('frames_out_total', 'Frames written, per type', 'type', () => realtime.stats().framesOut);
  perKey('errors_total', 'Error frames sent, per code', 'code', () => realtime.stats().errors);
  perKey('handshakes_refused_total', 'Handshakes refused before the upgrade', 'status', () => {
    return realtime.stats().handshakesRefused;
  });
  const total = (name: string, help: string, read: () => number) =>
    new Counter({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  total(
    'dropped_total',
    'Messages the drop policy dropped for connections that were behind',
    () => realtime.stats().dropped,
  );
  total(
    'dropped_volatile_total',
    'Volatile messages dropped for connections that were behind',
    () => realtime.stats().droppedVolatile,
  );
  total('slow_consumers_total', 'Connections closed for not reading', () => realtime.stats().slowConsumers);
  total('rate_limited_total', 'Frames and messages refused by a rate limit', () => realtime.stats().rateLimited);
  new Counter({
    name: `${prefix}handler_messages_total`,
    help: 'Messages handled by handlers with RealtimeMetricsInterceptor, per type and outcome',
    labelNames: ['type', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const [type, entry] of Object.entries(realtime.stats().handlers)) {
        this.inc({ type, outcome: 'ok' }, entry.handled - entry.failed);
        this.inc({ type, outcome: 'error' }, entry.failed);
      }
    },
  });
  new Counter({
    name: `${prefix}handler_seconds_total`,
    help: 'Time spent in handlers with RealtimeMetricsInterceptor, per type',
    labelNames: ['type'],
    registers,
    collect() {
      this.reset();
      for (const [type, entry] of Object.entries(realtime.stats().handlers)) {
        this.inc({ type }, entry.totalMs / 1000);
      }
    },
  });
}
