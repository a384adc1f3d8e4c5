import { randomBytes } from 'node:crypto';
import type { StoredMsg } from '@nats-io/jetstream';
import type { BackendContext } from '../backend/backend-context.js';
import type { Broker } from '../broker/broker.js';
import { historyHeader } from '../broker/broker-wire.js';
import {
  type AtomicAppendPublish,
  type HistoryEntry,
  type HistoryLimits,
  type HistoryPage,
  type HistoryPosition,
  type HistoryQuery,
  HistoryStore,
  withOffset,
} from '../history/history-store.js';
import { NatsBroker, ROUTE_HEADER } from './nats-broker.js';
import type { NatsConnections, NatsHandles } from './nats-connections.js';
import { token } from './nats-names.js';

const EPOCH_HEADER = 'Realtime-Epoch';
const OFFSET_HEADER = 'Realtime-Offset';
/** JetStream's answer when another publisher appended to the subject first. */
const WRONG_LAST_SEQUENCE = 10071;
const MAX_ATTEMPTS = 50;

interface Position extends HistoryPosition {
  /** The stream sequence of the channel's last message (0 for none): what the next append expects. */
  readonly lastSeq: number;
}

/**
 * Channel history on JetStream, shared by every instance: one stream (`<prefix>_history`), one subject per channel,
 * each message with its epoch and offset in headers; the epoch of each channel in a KV bucket. An append is a
 * JetStream publish that expects the channel's last sequence (optimistic concurrency, retried on a conflict), so
 * offsets are gapless and in stream order whichever instance appends. With the `NatsBroker` of the same
 * `natsRealtime()`, the stream also delivers: every instance reads kept messages from it in order.
 *
 * A channel keeps its last `size` messages (older ones are purged after an append) and hides those older than its
 * `ttlMs`; a channel idle past its `ttlMs` starts a new epoch. The stream itself drops messages after
 * `historyMaxAgeMs`.
 *
 * Made by `natsRealtime()`.
 */
export class NatsHistoryStore extends HistoryStore {
  #started = false;
  #atomic: AtomicAppendPublish | undefined;

  /** @internal */
  constructor(private readonly connections: NatsConnections) {
    super();
  }

  override async start(_context: BackendContext): Promise<void> {
    await this.connections.acquire();
    this.#started = true;
  }

  append(channel: string, frame: string, limits: HistoryLimits): Promise<HistoryEntry & HistoryPosition> {
    return this.#append(channel, frame, limits, undefined);
  }

  /** With the `NatsBroker` of the same `natsRealtime()`: the appended message is what every instance delivers. */
  override atomicPublisher(broker: Broker): AtomicAppendPublish | undefined {
    if (!(broker instanceof NatsBroker) || broker.connections !== this.connections) {
      return undefined;
    }
    return (this.#atomic ??= {
      appendAndPublish: async (channel, frame, limits, delivery) => ({
        ...(await this.#append(channel, frame, limits, historyHeader(channel, delivery))),
        delivered: 0,
      }),
    });
  }

  async read(channel: string, query: HistoryQuery, limits: HistoryLimits): Promise<HistoryPage> {
    return this.connections.run('reading history', async (handles) => {
      const position = await this.#position(handles, channel, limits);
      const kept = await this.#entries(handles, channel, position, limits);
      const { epoch, offset } = position;
      if (query.since === undefined) {
        return { epoch, offset, complete: true, entries: kept.slice(-query.limit) };
      }
      const since = query.since;
      const first = kept[0]?.offset;
      const complete = since <= offset && (since === offset || (first !== undefined && first <= since + 1));
      const entries = kept.filter((entry) => entry.offset > since).slice(0, query.limit);
      return { epoch, offset, complete, entries };
    });
  }

  async close(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.connections.release();
    }
  }

  async #append(
    channel: string,
    frame: string,
    limits: HistoryLimits,
    route: string | undefined,
  ): Promise<HistoryEntry & HistoryPosition> {
    const what = route === undefined ? 'the message was not kept' : 'the message was neither kept nor delivered';
    return this.connections.run(what, async (handles) => {
      const subject = this.connections.names.history(channel);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const position = await this.#position(handles, channel, limits);
        const offset = position.offset + 1;
        const kept = withOffset(frame, offset);
        const headers = handles.headers();
        headers.set(EPOCH_HEADER, position.epoch);
        headers.set(OFFSET_HEADER, String(offset));
        if (route !== undefined) {
          headers.set(ROUTE_HEADER, `${route.slice(0, -1)},"offset":${offset}}`);
        }
        try {
          await handles.js.publish(subject, kept, { headers, expect: { lastSubjectSequence: position.lastSeq } });
        } catch (error) {
          if ((error as { code?: number }).code === WRONG_LAST_SEQUENCE) {
            continue; // another instance appended first: take the next offset
          }
          throw error;
        }
        if (offset > limits.size) {
          const stream = this.connections.names.historyStream;
          void handles.jsm.streams.purge(stream, { filter: subject, keep: limits.size }).catch(() => undefined);
        }
        return { epoch: position.epoch, offset, frame: kept };
      }
      throw new Error(`Appending to the history of "${channel}" lost ${MAX_ATTEMPTS} races in a row`);
    });
  }

  /** The channel's epoch (a new one when it has none, or was idle past `ttlMs`), last offset and last sequence. */
  async #position(handles: NatsHandles, channel: string, limits: HistoryLimits): Promise<Position> {
    const { names } = this.connections;
    const key = `e.${token(channel)}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [last, entry] = await Promise.all([
        handles.jsm.direct.getMessage(names.historyStream, { last_by_subj: names.history(channel) }),
        handles.epochs.get(key),
      ]);
      const lastSeq = last?.seq ?? 0;
      const live = entry !== null && entry.operation === 'PUT';
      const touched = Math.max(live ? entry.created.getTime() : 0, last?.time.getTime() ?? 0);
      if (live && (limits.ttlMs === undefined || Date.now() - touched < limits.ttlMs)) {
        const epoch = entry.string();
        const offset =
          last !== null && last.header.get(EPOCH_HEADER) === epoch ? Number(last.header.get(OFFSET_HEADER)) : 0;
        return { epoch, offset, lastSeq };
      }
      const epoch = newEpoch();
      try {
        if (live) {
          await handles.epochs.update(key, epoch, entry.revision);
        } else {
          await handles.epochs.create(key, epoch);
        }
        return { epoch, offset: 0, lastSeq };
      } catch {
        // another instance opened it first: read again
      }
    }
    throw new Error(`Opening the history of "${channel}" lost ${MAX_ATTEMPTS} races in a row`);
  }

  /** The channel's kept messages of this epoch, oldest first: at most `size`, none older than `ttlMs`. */
  async #entries(
    handles: NatsHandles,
    channel: string,
    position: Position,
    limits: HistoryLimits,
  ): Promise<HistoryEntry[]> {
    const { names } = this.connections;
    const subject = names.history(channel);
    const entries: HistoryEntry[] = [];
    const cutoff = limits.ttlMs === undefined ? 0 : Date.now() - limits.ttlMs;
    let seq = 1;
    while (position.lastSeq > 0 && seq <= position.lastSeq) {
      const message: StoredMsg | null = await handles.jsm.direct.getMessage(names.historyStream, {
        seq,
        next_by_subj: subject,
      });
      if (message === null || message.seq > position.lastSeq) {
        break;
      }
      seq = message.seq + 1;
      if (message.header.get(EPOCH_HEADER) === position.epoch && message.time.getTime() > cutoff) {
        entries.push({ offset: Number(message.header.get(OFFSET_HEADER)), frame: message.string() });
      }
    }
    return entries.filter((entry) => entry.offset > position.offset - limits.size);
  }
}

function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}
