import type { BackendContext } from '../backend/backend-context.js';

/** What every message for connections carries: its encoded frame, and how to deliver it. */
interface PublishedFrame {
  /** The envelope's type, for counting. */
  readonly type: string;
  /** The envelope, encoded once by the publishing node (the internal form: see `protocol/binary.ts`). */
  readonly frame: string;
  /** May be dropped for connections that are behind. */
  readonly volatile?: boolean;
  /** `false`: never compressed with permessage-deflate (the data is compressed already). */
  readonly compress?: false;
}

/**
 * What travels between nodes: an already encoded frame and who it is for. Frames are encoded once by the
 * publishing node; every node hands the same text to its own local connections.
 */
export type BrokerMessage =
  | (PublishedFrame & {
      readonly kind: 'channel';
      readonly channel: string;
      /** Set for channels with history: the message's offset (connections never get one twice). */
      readonly offset?: number;
      readonly except?: readonly string[];
    })
  | (PublishedFrame & { readonly kind: 'user'; readonly userId: string; readonly except?: readonly string[] })
  | (PublishedFrame & { readonly kind: 'connection'; readonly connectionId: string })
  | (PublishedFrame & { readonly kind: 'all'; readonly except?: readonly string[] })
  | {
      readonly kind: 'disconnect';
      readonly target: { readonly userId: string } | { readonly connectionId: string };
      readonly code: number;
      readonly reason: string;
    };

/** Hands a message to this node's connections; returns how many it was written to. */
export type BrokerListener = (message: BrokerMessage) => number;

/** What a publish knows about where the message went. */
export interface PublishReport {
  /**
   * Connections of this node the message was written to during the publish. A message that reaches this node later
   * through a remote broker (a history channel's, on Redis) is not counted.
   */
  readonly delivered: number;
  /**
   * How many other subscribers the broker handed it to (nodes, for Redis pub/sub); 0 for the in-process broker. A
   * transport that cannot tell answers -1.
   */
  readonly forwarded: number;
}

/**
 * Moves published messages to every node that has local interest in them. The embedded default is the in-process
 * {@link LocalBroker}; brokers for many instances extend {@link ClusterBroker}, which owns the routing and the wire
 * format and leaves a backend only raw publish and subscribe. Provide your own with the `broker` option: it is
 * injected by this class, which is also its token.
 *
 * Topics: `channel:<name>` and `user:<id>` follow local interest (the module calls `subscribe` when the first local
 * member appears and `unsubscribe` when the last leaves); `all` and `node:<nodeId>` are always delivered.
 */
export abstract class Broker {
  /** Starts delivery to this node: from now on, messages for its topics reach `context.deliver`. */
  abstract start(context: BackendContext): Promise<void>;

  /**
   * Publishes to every interested node, this one included, and reports where it went. Rejects when the message
   * cannot be handed over.
   */
  abstract publish(message: BrokerMessage): Promise<PublishReport>;

  /**
   * This node has local interest in `topic`. Resolves once the interest is recorded; while the transport is
   * reconnecting it is renewed when the transport is back, and a failure of a live transport rejects.
   */
  abstract subscribe(topic: string): Promise<void>;

  /** This node no longer has local interest in `topic`. */
  abstract unsubscribe(topic: string): Promise<void>;

  /** Stops delivery and releases resources. */
  abstract close(): Promise<void>;

  /** Whether the broker can deliver now (a remote broker says why not); health checks report it. */
  health(): BrokerHealth {
    return { up: true };
  }
}

/** Whether a broker can deliver now, and why not. */
export interface BrokerHealth {
  readonly up: boolean;
  /** Why it is down, for health reports. */
  readonly reason?: string;
}

export const ALL_TOPIC = 'all';

export function channelTopic(channel: string): string {
  return `channel:${channel}`;
}

export function userTopic(userId: string): string {
  return `user:${userId}`;
}

export function nodeTopic(nodeId: string): string {
  return `node:${nodeId}`;
}

/** Connection ids start with the id of the node that holds them: `<nodeId>.<sequence>`. */
export function nodeIdOfConnection(connectionId: string): string {
  const dot = connectionId.indexOf('.');
  return dot === -1 ? connectionId : connectionId.slice(0, dot);
}

/** The topic a message is published on. */
export function topicOf(message: BrokerMessage): string {
  switch (message.kind) {
    case 'channel':
      return channelTopic(message.channel);
    case 'user':
      return userTopic(message.userId);
    case 'connection':
      return nodeTopic(nodeIdOfConnection(message.connectionId));
    case 'all':
      return ALL_TOPIC;
    case 'disconnect':
      return 'userId' in message.target
        ? userTopic(message.target.userId)
        : nodeTopic(nodeIdOfConnection(message.target.connectionId));
  }
}

/** The node a message is only for (a connection's, or a disconnect of one connection), else undefined. */
export function targetNodeOf(message: BrokerMessage): string | undefined {
  if (message.kind === 'connection') {
    return nodeIdOfConnection(message.connectionId);
  }
  if (message.kind === 'disconnect' && 'connectionId' in message.target) {
    return nodeIdOfConnection(message.target.connectionId);
  }
  return undefined;
}
