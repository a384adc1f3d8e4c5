import { Inject, Injectable, Logger } from '@nestjs/common';
import { Broker } from '../broker/broker.js';
import { FailureCode, RealtimeBrokerError } from '../errors/realtime-failure.js';
import { LifecycleHooks } from '../routing/lifecycle-hooks.js';
import type { Connection } from '../connection/connection.js';
import { presenceEventFrame, presenceUpdateFrame } from '../protocol/frames.js';
import { encodeEnvelope } from '../protocol/codec.js';
import { ServerFrameType } from '../protocol/message-types.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { presenceInfoProblem } from './presence-info.js';
import { type PresenceMember, PresenceStore } from './presence-store.js';

/**
 * Presence on top of the store: who a connection is as a member, and the `system:user_joined` / `system:user_left`
 * events, published to the channel through the broker so they reach every node.
 */
@Injectable()
export class PresenceTracker {
  readonly #logger = new Logger('RealtimeModule');

  constructor(
    private readonly store: PresenceStore,
    private readonly broker: Broker,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** Announces a member the store removed by itself (one of an instance that died): `BackendContext.presenceExpired`. */
  readonly expired = (channel: string, member: PresenceMember): void => {
    this.#announce(ServerFrameType.USER_LEFT, channel, member, undefined);
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

  /** Records a connection as in the channel; when its user just became a member, tells the other connections. */
  async add(channel: string, connection: Connection, member: PresenceMember): Promise<void> {
    if (await this.store.add(channel, connection.id, member)) {
      this.#announce(ServerFrameType.USER_JOINED, channel, member, connection.id);
    }
  }

  /** Forgets a connection; when it was its user's last one in the channel, tells the channel the user left. */
  async remove(channel: string, connection: Connection): Promise<void> {
    if (connection.userId === null) {
      return;
    }
    const left = await this.store.remove(channel, connection.id, connection.userId);
    if (left !== undefined) {
      this.#announce(ServerFrameType.USER_LEFT, channel, left, connection.id);
    }
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

  #announce(
    type: typeof ServerFrameType.USER_JOINED | typeof ServerFrameType.USER_LEFT,
    channel: string,
    member: PresenceMember,
    except: string | undefined,
  ): void {
    const frame = encodeEnvelope(presenceEventFrame(type, channel, member, Date.now()));
    this.broker
      .publish({ kind: 'channel', channel, type, frame, except: except === undefined ? undefined : [except] })
      .catch((error: unknown) => {
        this.#failed(`Announcing ${type} of "${member.userId}" in "${channel}" failed`, error);
      });
  }

  #failed(what: string, error: unknown, connection?: Connection): void {
    this.#logger.warn(`${what}: ${(error as Error)?.message ?? String(error)}`);
    this.hooks.report(
      () => new RealtimeBrokerError(FailureCode.BROKER_FAILED, what, { client: connection?.view, cause: error }),
    );
  }
}
