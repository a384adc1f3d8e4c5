import { Inject, Injectable, Logger } from '@nestjs/common';
import { Broker } from '../broker/broker.js';
import { FailureCode, RealtimeBrokerError } from '../errors/realtime-failure.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';
import type { Connection } from '../connection/connection.js';
import { ChannelCatalog } from '../channels/channel-catalog.js';
import type { ResolvedPresenceOptions } from '../channels/channel-options.js';
import { type PresencePage, presenceDiffFrame, presenceUpdateFrame } from '../protocol/frames.js';
import { encodeEnvelope } from '../protocol/codec.js';
import { ServerFrameType } from '../protocol/message-types.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { PresenceDiffs } from './presence-diffs.js';
import { presenceInfoProblem } from './presence-info.js';
import { type PresenceMember, PresenceStore } from './presence-store.js';

/** The most members a `presence` frame may ask for at once, and how many it gets without a `limit`. */
export const PRESENCE_PAGE = { max: 1000, default: 100 } as const;

/**
 * Presence on top of the store: who a connection is as a member, what a joiner is told (`subscribed`), and the
 * joins and leaves, coalesced per channel into `system:presence_diff` frames published through the broker so they
 * reach every node.
 */
@Injectable()
export class PresenceTracker {
  readonly #logger = new Logger('RealtimeModule');
  readonly #diffs: PresenceDiffs;

  constructor(
    private readonly store: PresenceStore,
    private readonly broker: Broker,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    private readonly hooks: LifecycleHooks,
    private readonly catalog: ChannelCatalog,
  ) {
    this.#diffs = new PresenceDiffs({
      count: (channel) => this.store.count(channel),
      publish: async (channel, diff) => {
        const frame = encodeEnvelope(presenceDiffFrame(channel, diff, Date.now()));
        await this.broker.publish({ kind: 'channel', channel, type: ServerFrameType.PRESENCE_DIFF, frame });
      },
      failed: (channel, error) => this.#failed(`Announcing the joins and leaves of "${channel}" failed`, error),
    });
  }

  /**
   * Announces a member the store removed by itself (one of an instance that died): `BackendContext.presenceExpired`.
   * At once, not in the channel's next window: a reap is rare, and its announcement then precedes whatever this
   * node sends after it.
   */
  readonly expired = (channel: string, member: PresenceMember): void => {
    const settings = this.catalog.match(channel)?.definition.options.presence;
    if (settings) {
      this.#diffs.change(channel, member, true, settings);
      void this.#diffs.flushNow(channel);
    }
  };

  /**
   * The member a connection makes: its user, with the info `canJoin` returned (when it returned an object) or else
   * the identity's. Undefined for an anonymous connection: it sees the members but is not one. Throws an error
   * naming the source when the info is not a plain JSON object within `maxPresenceInfoBytes`.
   */
  memberOf(connection: Connection, joinResult: unknown, source: string): PresenceMember | undefined {
    if (connection.userId === null) {
      return undefined;
    }
    if (typeof joinResult !== 'object' || joinResult === null) {
      return { userId: connection.userId, info: connection.info };
    }
    const problem = presenceInfoProblem(joinResult, this.options.maxPresenceInfoBytes);
    if (problem !== undefined) {
      throw new TypeError(`${source} returned bad member info for user "${connection.userId}": ${problem}`);
    }
    return { userId: connection.userId, info: joinResult as Record<string, unknown> };
  }

  /** Records a connection as in the channel; when its user just became a member, the channel's next diff says so. */
  async add(
    channel: string,
    connection: Connection,
    member: PresenceMember,
    settings: ResolvedPresenceOptions,
  ): Promise<void> {
    if (await this.store.add(channel, connection.id, member)) {
      this.#diffs.change(channel, member, false, settings);
    }
  }

  /** Forgets a connection; when it was its user's last one in the channel, the channel's next diff says so. */
  async remove(channel: string, connection: Connection, settings: ResolvedPresenceOptions): Promise<void> {
    if (connection.userId === null) {
      return;
    }
    const left = await this.store.remove(channel, connection.id, connection.userId);
    if (left !== undefined) {
      this.#diffs.change(channel, left, true, settings);
    }
  }

  /** What `subscribed` tells a joiner: the member count, and the members unless there are more than `maxAnnounced`. */
  async snapshot(
    channel: string,
    settings: ResolvedPresenceOptions,
  ): Promise<{ members?: PresenceMember[]; memberCount: number }> {
    const memberCount = await this.store.count(channel);
    return memberCount > settings.maxAnnounced
      ? { memberCount }
      : { members: await this.store.page(channel, 0, settings.maxAnnounced), memberCount };
  }

  /** A page of members for a `presence` frame: from position `since` (default 0), at most `limit` (default 100). */
  async page(channel: string, since = 0, limit: number = PRESENCE_PAGE.default): Promise<PresencePage> {
    const size = Math.min(limit, PRESENCE_PAGE.max);
    const [members, count] = await Promise.all([this.store.page(channel, since, size), this.store.count(channel)]);
    const next = since + members.length;
    return next < count && members.length > 0 ? { members, count, next } : { members, count };
  }

  /** Sends the diffs still waiting (on shutdown, before the backends close). */
  flush(): Promise<void> {
    return this.#diffs.flushAll();
  }

  /**
   * Replaces a member's info in a channel and, when the user is a member, tells the channel once (every node, every
   * connection, the user's own included) with `system:presence {userId, info}`. Throws a `TypeError` naming the
   * problem for info that is not a plain JSON object within `maxPresenceInfoBytes`. Resolves to whether the user is
   * a member.
   */
  async update(channel: string, member: PresenceMember): Promise<boolean> {
    const problem = presenceInfoProblem(member.info, this.options.maxPresenceInfoBytes);
    if (problem !== undefined) {
      throw new TypeError(`Invalid presence info for user "${member.userId}" in "${channel}": ${problem}`);
    }
    if (!(await this.store.setInfo(channel, member))) {
      return false;
    }
    const frame = encodeEnvelope(presenceUpdateFrame(channel, member, Date.now()));
    await this.broker.publish({ kind: 'channel', channel, type: ServerFrameType.PRESENCE, frame });
    return true;
  }

  members(channel: string): Promise<PresenceMember[]> {
    return this.store.members(channel);
  }

  #failed(what: string, error: unknown, connection?: Connection): void {
    this.#logger.warn(`${what}: ${(error as Error)?.message ?? String(error)}`);
    this.hooks.report(
      () => new RealtimeBrokerError(FailureCode.BROKER_FAILED, what, { client: connection?.view, cause: error }),
    );
  }
}
