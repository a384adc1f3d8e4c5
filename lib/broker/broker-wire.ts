import type { BrokerMessage } from '../broker/broker.js';
import type { HistoryDelivery } from '../history/history-store.js';

/**
 * How a broker message travels on Redis pub/sub: a JSON header (everything but the frame, plus the publishing node
 * when that node already delivered it locally), a newline, then the frame exactly as encoded once by the publisher,
 * so it is neither escaped nor parsed again on the way. JSON never holds a raw newline, so the first one ends the
 * header.
 */
export interface WireHeader {
  readonly kind: BrokerMessage['kind'];
  /** The node that delivered the message to its own connections already. */
  readonly from?: string;
  readonly [field: string]: unknown;
}

export function encodeBrokerMessage(message: BrokerMessage, deliveredBy: string | undefined): string {
  const { frame, ...rest } = message as BrokerMessage & { frame?: string };
  const header: WireHeader = deliveredBy === undefined ? rest : { ...rest, from: deliveredBy };
  return `${JSON.stringify(header)}\n${frame ?? ''}`;
}

/** The header of a message for a channel with history, without its offset: the append script adds it. */
export function historyHeader(channel: string, delivery: HistoryDelivery): string {
  return JSON.stringify({ kind: 'channel', channel, ...delivery });
}

const KINDS = new Set(['channel', 'user', 'connection', 'all', 'disconnect']);

/** Decodes what `encodeBrokerMessage` made; undefined for anything else (another app's message, say). */
export function decodeBrokerMessage(data: string): { message: BrokerMessage; from: string | undefined } | undefined {
  const newline = data.indexOf('\n');
  if (newline === -1) {
    return undefined;
  }
  let header: WireHeader;
  try {
    header = JSON.parse(data.slice(0, newline)) as WireHeader;
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null || !KINDS.has(header.kind)) {
    return undefined;
  }
  const { from, ...rest } = header;
  const message = (header.kind === 'disconnect' ? rest : { ...rest, frame: data.slice(newline + 1) }) as BrokerMessage;
  return { message, from: typeof from === 'string' ? from : undefined };
}
