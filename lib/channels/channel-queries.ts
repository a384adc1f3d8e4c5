import { Injectable } from '@nestjs/common';
import type { Connection } from '../connection/connection.js';
import { ErrorResponder } from '../exceptions/error-responder.js';
import { HistoryStore } from '../history/history-store.js';
import { PresenceTracker } from '../presence/presence-tracker.js';
import type { InboundFrame } from '../protocol/envelope.js';
import { isBinaryText, parseInternalText } from '../protocol/binary.js';
import { historyFrame, historyFrameText, presenceFrame } from '../protocol/frames.js';
import { ServerFrameType } from '../protocol/message-types.js';
import { subscriberAccess } from './channel-access.js';

/** The control frames subscribers use to ask about a channel: `presence` and `history`. */
@Injectable()
export class ChannelQueries {
  constructor(
    private readonly presence: PresenceTracker,
    private readonly history: HistoryStore,
    private readonly errors: ErrorResponder,
  ) {}

  /**
   * `presence {channel, since?, limit?}` → `system:presence {channel, payload: {members, count, next?}}`: at most
   * `limit` members (default 100, at most 1000) from position `since`; `next` is the `since` of the next page.
   */
  async members(connection: Connection, frame: InboundFrame): Promise<void> {
    const access = subscriberAccess(connection, frame, 'presence');
    if ('code' in access) {
      this.errors.refuse(connection, access, frame.id);
      return;
    }
    try {
      const page = await this.presence.page(access.channel, frame.since, frame.limit);
      connection.sendEnvelope(presenceFrame(access.channel, page, frame.id));
    } catch (exception) {
      this.errors.fail(connection, exception, frame.id, `reading the members of "${access.channel}"`);
    }
  }

  /**
   * `history {channel, since?, limit?}` → `history {channel, payload: {epoch, offset, messages}}`: the messages after
   * `since` (oldest first, at most `limit`), or the newest `limit` without it. `limit` defaults to all that is kept.
   */
  async messages(connection: Connection, frame: InboundFrame): Promise<void> {
    const access = subscriberAccess(connection, frame, 'history');
    if ('code' in access) {
      this.errors.refuse(connection, access, frame.id);
      return;
    }
    const { channel, definition } = access;
    const history = definition.options.history!;
    const limit = Math.min(frame.limit ?? history.size, history.size);
    try {
      const page = await this.history.read(channel, { since: frame.since, limit }, history);
      const frames = page.entries.map((entry) => entry.frame);
      if (frames.some(isBinaryText)) {
        // Bytes travel once, after the whole answer's JSON: the messages are decoded and the answer encoded anew.
        connection.sendEnvelope(historyFrame(channel, page, frames.map(parseInternalText), frame.id));
      } else {
        connection.sendText(historyFrameText(channel, page, frames, frame.id), ServerFrameType.HISTORY);
      }
    } catch (exception) {
      this.errors.fail(connection, exception, frame.id, `reading the history of "${channel}"`);
    }
  }
}
