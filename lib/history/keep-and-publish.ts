import type { Broker } from '../broker/broker.js';
import type { HistoryDelivery, HistoryLimits, HistoryStore, KeptMessage } from './history-store.js';

/**
 * Keeps a message of a channel with history and publishes it: in one atomic step when the store can do that on the
 * broker's transport (`atomicPublisher`), else appended first (the store gives out the offset), then published
 * with that offset beside the frame.
 */
export async function keepAndPublish(
  store: HistoryStore,
  broker: Broker,
  channel: string,
  frame: string,
  limits: HistoryLimits,
  delivery: HistoryDelivery,
): Promise<KeptMessage> {
  const atomic = store.atomicPublisher(broker);
  if (atomic !== undefined) {
    return atomic.appendAndPublish(channel, frame, limits, delivery);
  }
  const kept = await store.append(channel, frame, limits);
  const report = await broker.publish({
    kind: 'channel',
    channel,
    frame: kept.frame,
    offset: kept.offset,
    ...delivery,
  });
  return { ...kept, delivered: report.delivered };
}
