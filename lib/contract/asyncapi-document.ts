import type { ChannelDefinition } from '../channels/channel-definition.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ServerFrameType, SUBPROTOCOL } from '../protocol/message-types.js';
import type { Route } from '../routing/dispatch-table.js';

/** What the document describes, read from the app at boot. */
export interface AsyncApiInput {
  readonly title: string;
  readonly version: string;
  readonly description: string | undefined;
  /** The endpoint's URL path. */
  readonly path: string;
  readonly authenticated: boolean;
  readonly channels: readonly ChannelDefinition[];
  readonly routes: readonly Route[];
  /** The JSON Schema of each route's payload, where one is known. */
  readonly payloadSchemas: ReadonlyMap<Route, object>;
  /** Schemas those refer to (`#/components/schemas/<name>`). */
  readonly schemas: Readonly<Record<string, object>>;
}

type Json = Record<string, unknown>;

const ref = (pointer: string) => ({ $ref: pointer });

/** A component or message id AsyncAPI accepts (`chat:group` → `chat_group`). */
function idOf(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_');
}

const frameId = { oneOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'integer' }] };

/** The envelope of a client frame of `type`, with `payload` as given. */
function clientFrame(type: string, payload: object | undefined, extra: Json = {}): Json {
  return {
    type: 'object',
    required: ['type'],
    properties: {
      type: { const: type },
      id: { ...frameId, description: 'Set it to get an answer (`replyTo` is this id).' },
      ...extra,
      ...(payload === undefined ? {} : { payload }),
    },
  };
}

/** The envelope of a server frame of `type`. */
function serverFrame(type: string, payload: object, extra: Json = {}): Json {
  return {
    type: 'object',
    required: ['type'],
    properties: { type: { const: type }, ...extra, payload },
  };
}

const member = {
  type: 'object',
  required: ['userId', 'info'],
  properties: { userId: { type: 'string' }, info: { type: 'object' } },
};

/** Messages every channel shares: the answers, and the frames of the features a channel enables. */
const SHARED_MESSAGES: Record<string, Json> = {
  ack: {
    name: ServerFrameType.ACK,
    summary: "A handler's return value, answering the frame whose id is `replyTo`.",
    payload: serverFrame(ServerFrameType.ACK, {}, { replyTo: frameId }),
  },
  error: {
    name: ServerFrameType.ERROR,
    summary: 'A refusal or failure, answering the frame whose id is `replyTo` (when it had one).',
    payload: {
      type: 'object',
      required: ['type', 'error'],
      properties: {
        type: { const: ServerFrameType.ERROR },
        replyTo: frameId,
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', enum: Object.values(ErrorCode) },
            message: { type: 'string' },
            details: {},
          },
        },
      },
    },
  },
  subscribe: {
    name: 'subscribe',
    summary: 'Join the channel; `since` and `epoch` recover the messages missed after that offset.',
    payload: clientFrame('subscribe', undefined, {
      channel: { type: 'string' },
      since: { type: 'integer', minimum: 0 },
      epoch: { type: 'string' },
    }),
  },
  subscribed: {
    name: ServerFrameType.SUBSCRIBED,
    summary: 'The join is confirmed: members (presence), history position and recovery outcome.',
    payload: serverFrame(
      ServerFrameType.SUBSCRIBED,
      {
        type: 'object',
        properties: {
          members: { type: 'array', items: member },
          memberCount: { type: 'integer' },
          epoch: { type: 'string' },
          offset: { type: 'integer' },
          recovered: { type: 'boolean' },
        },
      },
      { channel: { type: 'string' }, replyTo: frameId },
    ),
  },
  presenceDiff: {
    name: ServerFrameType.PRESENCE_DIFF,
    summary: 'Who joined and left since the last diff, and the member count (the count only in large channels).',
    payload: serverFrame(ServerFrameType.PRESENCE_DIFF, {
      type: 'object',
      required: ['count'],
      properties: {
        joins: { type: 'array', items: member },
        leaves: { type: 'array', items: member },
        count: { type: 'integer' },
      },
    }),
  },
  whisper: {
    name: 'whisper',
    summary: "A client event relayed to the channel's other connections (typing indicators, read receipts).",
    payload: clientFrame('whisper', {}, { channel: { type: 'string' }, event: { type: 'string' } }),
  },
};

interface ChannelEntry {
  readonly id: string;
  readonly definition: ChannelDefinition | undefined;
  readonly routes: Route[];
}

/**
 * An AsyncAPI 3.0 document of the app's realtime API: one channel per `@Channel` class (its pattern as the address,
 * the pattern's params as parameters), the frames a client sends (`receive` operations, each answered by `ack` or
 * `error`) and those the server sends, the payload schemas, the error codes and the handshake's authentication.
 */
export function asyncApiDocument(input: AsyncApiInput): Json {
  const entries = new Map<ChannelDefinition | undefined, ChannelEntry>();
  const entryOf = (definition: ChannelDefinition | undefined): ChannelEntry => {
    let entry = entries.get(definition);
    if (entry === undefined) {
      entry = { id: idOf(definition?.classRef.name ?? 'global'), definition, routes: [] };
      entries.set(definition, entry);
    }
    return entry;
  };
  input.channels.forEach((definition) => entryOf(definition));
  input.routes.forEach((route) => entryOf(route.definition).routes.push(route));

  // A method may handle several types (stacked @OnMessage): its operations are then named by type as well.
  const typesPerMethod = new Map<string, number>();
  input.routes.forEach((route) => typesPerMethod.set(route.name, (typesPerMethod.get(route.name) ?? 0) + 1));
  const operationId = (route: Route): string =>
    typesPerMethod.get(route.name) === 1 ? idOf(route.name) : `${idOf(route.name)}.${idOf(route.type)}`;
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = { ...SHARED_MESSAGES };
  for (const { id, definition, routes } of entries.values()) {
    const channelMessages: Json = {
      ack: ref('#/components/messages/ack'),
      error: ref('#/components/messages/error'),
    };
    const channelRef = ref(`#/channels/${id}`);
    const answers = [ref(`#/channels/${id}/messages/ack`), ref(`#/channels/${id}/messages/error`)];
    for (const route of routes) {
      const messageId = idOf(route.type);
      const payload = input.payloadSchemas.get(route);
      messages[messageId] ??= {
        name: route.type,
        payload: clientFrame(route.type, payload ?? {}, definition ? { channel: { type: 'string' } } : {}),
      };
      channelMessages[messageId] = ref(`#/components/messages/${messageId}`);
      operations[operationId(route)] = {
        action: 'receive',
        summary: `Handled by ${route.name}; a frame with an id is answered by ack (its return value) or error.`,
        channel: channelRef,
        messages: [ref(`#/channels/${id}/messages/${messageId}`)],
        reply: { channel: channelRef, messages: answers },
      };
    }
    if (definition !== undefined) {
      const options = definition.options;
      for (const name of ['subscribe', 'subscribed']) {
        channelMessages[name] = ref(`#/components/messages/${name}`);
      }
      operations[`${id}.subscribe`] = {
        action: 'receive',
        summary: `Joining "${definition.pattern.source}" (the class's guards and canJoin decide).`,
        channel: channelRef,
        messages: [ref(`#/channels/${id}/messages/subscribe`)],
        reply: {
          channel: channelRef,
          messages: [ref(`#/channels/${id}/messages/subscribed`), ref(`#/channels/${id}/messages/error`)],
        },
      };
      if (options.presence) {
        channelMessages.presenceDiff = ref('#/components/messages/presenceDiff');
        operations[`${id}.presence`] = {
          action: 'send',
          summary: `Members joined and left, coalesced every ${options.presence.diffIntervalMs} ms; the count only above ${options.presence.maxAnnounced} members.`,
          channel: channelRef,
          messages: [ref(`#/channels/${id}/messages/presenceDiff`)],
        };
      }
      if (options.whispers) {
        channelMessages.whisper = ref('#/components/messages/whisper');
        operations[`${id}.whisper`] = {
          action: 'receive',
          channel: channelRef,
          messages: [ref(`#/channels/${id}/messages/whisper`)],
        };
      }
    }
    channels[id] = {
      address: definition === undefined ? null : addressOf(definition.pattern.source),
      ...(definition === undefined
        ? { description: 'Frames without a channel, handled by @Channel() classes without a pattern.' }
        : { parameters: parametersOf(definition.pattern.source) }),
      messages: channelMessages,
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: input.title,
      version: input.version,
      ...(input.description === undefined ? {} : { description: input.description }),
    },
    defaultContentType: 'application/json',
    servers: {
      realtime: {
        host: 'localhost',
        protocol: 'ws',
        pathname: input.path,
        description: `WebSocket subprotocol "${SUBPROTOCOL}": JSON envelopes { type, id?, channel?, payload }.`,
        ...(input.authenticated
          ? { security: [ref('#/components/securitySchemes/bearer'), ref('#/components/securitySchemes/token')] }
          : {}),
      },
    },
    channels,
    operations,
    components: {
      schemas: input.schemas,
      messages,
      ...(input.authenticated
        ? {
            securitySchemes: {
              bearer: {
                type: 'http',
                scheme: 'bearer',
                description:
                  'The handshake carries a token: a "bearer.<token>" entry of Sec-WebSocket-Protocol (what browsers ' +
                  'can send), or an Authorization: Bearer header. Refused handshakes get HTTP 401.',
              },
              token: { type: 'httpApiKey', name: 'token', in: 'query', description: 'Or the token query parameter.' },
            },
          }
        : {}),
    },
  };
}

/** `room:{roomId}` as is, `*` as a named parameter, `{name...}` as `{name}`. */
function addressOf(pattern: string): string {
  return pattern
    .split(':')
    .map((segment, index) => (segment === '*' ? `{segment${index}}` : segment.replace('...}', '}')))
    .join(':');
}

function parametersOf(pattern: string): Json {
  const parameters: Json = {};
  pattern.split(':').forEach((segment, index) => {
    if (segment === '*') {
      parameters[`segment${index}`] = { description: `Any one segment (\`*\` in the pattern).` };
    } else if (segment.startsWith('{')) {
      const rest = segment.endsWith('...}');
      const name = segment.slice(1, rest ? -4 : -1);
      parameters[name] = { description: rest ? 'The rest of the channel name: one segment or more.' : 'One segment.' };
    }
  });
  return parameters;
}
