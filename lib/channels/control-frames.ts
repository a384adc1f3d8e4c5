import { Inject, Injectable } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import { ErrorResponder } from '../exceptions/error-responder.js';
import type { InboundFrame } from '../protocol/envelope.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ackFrame, pongFrame, subscribedFrame } from '../protocol/frames.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { ChannelCatalog } from './channel-catalog.js';
import { ChannelJoiner } from './channel-joiner.js';
import { ChannelMembership } from './channel-membership.js';
import { TokenExpiry } from '../auth/token-expiry.js';
import { HandshakeAuthenticator } from '../server/handshake-authenticator.js';

/** The control frames about channels, liveness and credentials: `subscribe`, `unsubscribe`, `ping`, `refresh`. */
@Injectable()
export class ControlFrames {
  constructor(
    private readonly catalog: ChannelCatalog,
    private readonly membership: ChannelMembership,
    private readonly joiner: ChannelJoiner,
    private readonly errors: ErrorResponder,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    private readonly authenticator: HandshakeAuthenticator,
    private readonly expiry: TokenExpiry,
  ) {}

  /**
   * `{type: 'refresh', id, payload: {token}}`: the authenticator verifies the fresh token (same user); the connection's
   * expiry moves to the new one, and the answer is an ack `{expiresAt}` (null: no longer expires). Refused:
   * `UNAUTHORIZED`, and the old deadline stands.
   */
  async refresh(connection: Connection, frame: InboundFrame): Promise<void> {
    const token = (frame.payload as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 16_384) {
      this.errors.refuse(
        connection,
        { code: ErrorCode.BAD_REQUEST, message: '"payload.token" must be a token' },
        frame.id,
      );
      return;
    }
    const result = await this.authenticator.refresh(connection.view, token);
    if ('refused' in result) {
      this.errors.refuse(connection, { code: ErrorCode.UNAUTHORIZED, message: result.refused }, frame.id);
      return;
    }
    connection.expiresAt = result.expiresAt;
    this.expiry.watch(connection);
    if (frame.id !== undefined) {
      connection.sendEnvelope(ackFrame(frame.id, { expiresAt: result.expiresAt ?? null }));
    }
  }

  async subscribe(connection: Connection, frame: InboundFrame): Promise<void> {
    const { channel, id } = frame;
    if (channel === undefined) {
      this.errors.refuse(connection, { code: ErrorCode.BAD_REQUEST, message: '"channel" is required' }, id);
      return;
    }
    if (connection.isSubscribed(channel)) {
      // Already live: nothing starts over (no replay, no members); `presence` and `history` refresh a view.
      connection.sendEnvelope(subscribedFrame(channel, id));
      return;
    }
    const cap = this.options.maxChannelsPerConnection;
    if (cap > 0 && connection.channelCount >= cap) {
      this.errors.refuse(
        connection,
        { code: ErrorCode.FORBIDDEN, message: `A connection may be in at most ${cap} channels` },
        id,
      );
      return;
    }
    const match = this.catalog.match(channel);
    if (!match) {
      this.errors.refuse(
        connection,
        { code: ErrorCode.FORBIDDEN, message: `No channel pattern matches "${channel}"` },
        id,
      );
      return;
    }
    let allowed: unknown;
    try {
      allowed = await match.definition.checkJoin(connection.view, match.params, {
        frame,
        channel,
        params: match.params,
      });
    } catch (exception) {
      this.errors.fail(connection, exception, id, `${match.definition.classRef.name} join check`);
      return;
    }
    if (!allowed) {
      this.errors.refuse(connection, { code: ErrorCode.FORBIDDEN, message: `Joining "${channel}" was refused` }, id);
      return;
    }
    try {
      const request = { replyTo: id, since: frame.since, epoch: frame.epoch, joinResult: allowed };
      await this.joiner.join(connection, channel, match, request);
    } catch (exception) {
      this.errors.fail(connection, exception, id, `joining "${channel}"`);
    }
  }

  async unsubscribe(connection: Connection, frame: InboundFrame): Promise<void> {
    const { channel, id } = frame;
    if (channel === undefined) {
      this.errors.refuse(connection, { code: ErrorCode.BAD_REQUEST, message: '"channel" is required' }, id);
      return;
    }
    let left: boolean;
    try {
      left = await this.membership.leave(connection, channel);
    } catch (exception) {
      this.errors.fail(connection, exception, id, `leaving "${channel}"`);
      return;
    }
    if (!left) {
      this.errors.refuse(connection, { code: ErrorCode.NOT_SUBSCRIBED, message: `Not subscribed to "${channel}"` }, id);
      return;
    }
    if (id !== undefined) {
      connection.sendEnvelope(ackFrame(id, undefined));
    }
  }

  /** `ping` → `pong {timestamp, rttMs}`: the round trip the server measured with its last heartbeat ping. */
  ping(connection: Connection, frame: InboundFrame): void {
    connection.sendEnvelope(pongFrame(frame.id, { timestamp: Date.now(), rttMs: connection.rttMs ?? null }));
  }
}
