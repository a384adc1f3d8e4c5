import { Logger } from '@nestjs/common';
import type { PresenceMember } from '../presence/presence-store.js';
import type { BackendContext } from './backend-context.js';
import { CONNECTIONS_SCOPE, type MemberEntries } from './member-entries.js';
import { SharedStart } from './shared-start.js';

/** An entry as this instance holds it: the user, and the info as stored (JSON). */
export interface HeldEntry {
  readonly userId: string;
  readonly info: string;
}

/**
 * The part of {@link MemberEntries} every shared backend has in common: started by the first user and released by
 * the last, a heartbeat every third of `nodeTimeoutMs` (and at once after the transport reconnects, with a resync),
 * and this instance's copy of what it holds (scope -> connection -> entry), which a backend puts back when the shared
 * store lost it. A backend implements the store operations, the tick and the leave.
 */
export abstract class NodeEntriesBase implements MemberEntries {
  protected readonly logger: Logger;
  /** scope -> connection -> entry. */
  protected readonly held = new Map<string, Map<string, HeldEntry>>();
  /** Set after a reconnect (or a failed tick): the next tick puts this node's entries back. */
  protected resyncNeeded = false;
  #nodeId = '';
  #context: BackendContext | undefined;
  readonly #shared = new SharedStart<void>(() => this.#close());
  #timer: NodeJS.Timeout | undefined;
  #stopWatch: (() => void) | undefined;

  constructor(
    loggerContext: string,
    private readonly nodeTimeoutMs: number,
  ) {
    this.logger = new Logger(loggerContext);
  }

  protected get nodeId(): string {
    return this.#nodeId;
  }

  acquire(context: BackendContext): Promise<void> {
    return this.#shared.acquire(() => this.#open(context));
  }

  /** Takes this node's entries out (reporting the leaves) and stops heartbeating, with its last user. */
  release(): Promise<void> {
    return this.#shared.release();
  }

  async #open(context: BackendContext): Promise<void> {
    await this.connect();
    this.#nodeId = context.nodeId;
    this.#context = context;
    const interval = Math.max(100, Math.floor(this.nodeTimeoutMs / 3));
    this.#timer = setInterval(() => void this.#safeTick(), interval).unref();
    // The store may have restarted empty: put back what this node holds as soon as it is reachable again.
    this.#stopWatch = this.onReconnect(() => {
      this.resyncNeeded = true;
      void this.#safeTick();
    });
    await this.#safeTick();
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopWatch?.();
    const held = [...this.held].flatMap(([scope, entries]) =>
      [...entries].map(([id, { userId }]) => [scope, id, userId] as const),
    );
    this.held.clear();
    try {
      await this.leave(held);
    } catch (error) {
      this.logger.warn(`Could not take this node's presence out: ${(error as Error).message}`);
    }
    this.#context = undefined;
    await this.disconnect();
  }

  abstract add(scope: string, connectionId: string, userId: string, info: string, limit?: number): Promise<-1 | 0 | 1>;
  abstract remove(scope: string, connectionId: string): Promise<PresenceMember | undefined>;
  abstract setInfo(scope: string, userId: string, info: string): Promise<boolean>;
  abstract members(scope: string): Promise<{ userId: string; info: string }[]>;
  abstract count(scope: string): Promise<number>;
  abstract countConnections(userId?: string): Promise<number>;

  /** Keeps this node's copy of an entry. */
  protected hold(scope: string, connectionId: string, entry: HeldEntry): void {
    let entries = this.held.get(scope);
    if (entries === undefined) {
      entries = new Map();
      this.held.set(scope, entries);
    }
    entries.set(connectionId, entry);
  }

  /** Forgets this node's copy of an entry; returns it, or undefined when it held none. */
  protected forget(scope: string, connectionId: string): HeldEntry | undefined {
    const entries = this.held.get(scope);
    const entry = entries?.get(connectionId);
    if (entries === undefined || entry === undefined) {
      return undefined;
    }
    entries.delete(connectionId);
    if (entries.size === 0) {
      this.held.delete(scope);
    }
    return entry;
  }

  /** This node's copy follows an info change, so a resync puts back the new info. */
  protected holdInfo(scope: string, userId: string, info: string): void {
    const entries = this.held.get(scope);
    for (const [connectionId, entry] of entries ?? []) {
      if (entry.userId === userId) {
        entries?.set(connectionId, { userId, info });
      }
    }
  }

  /** Reports members who left without leaving (a dead instance's): their leave is announced for channel scopes. */
  protected announce(scope: string, left: readonly PresenceMember[]): void {
    if (scope !== CONNECTIONS_SCOPE) {
      for (const member of left) {
        this.#context?.presenceExpired(scope, member);
      }
    }
  }

  async #safeTick(): Promise<void> {
    try {
      await this.tick();
    } catch (error) {
      this.resyncNeeded = true;
      this.logger.debug(`Presence heartbeat failed: ${(error as Error).message}`);
    }
  }

  /** Opens the shared transport. */
  protected abstract connect(): Promise<void>;
  /** Closes it. */
  protected abstract disconnect(): Promise<void>;
  /** Calls `listener` after every reconnect; returns how to stop. */
  protected abstract onReconnect(listener: () => void): () => void;
  /** One heartbeat: say this node is alive, resync when needed, clean up dead nodes (a throw is logged). */
  protected abstract tick(): Promise<void>;
  /** Takes these entries (this node's, forgotten already) out of the store, announcing who left. */
  protected abstract leave(
    entries: readonly (readonly [scope: string, connectionId: string, userId: string])[],
  ): Promise<void>;
}
