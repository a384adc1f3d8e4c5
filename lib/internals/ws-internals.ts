import * as ws from 'ws';
import type { WebSocket } from 'ws';

/**
 * Every reach into `ws` below its public API, in one place (the package pins `ws` to the tested minor range, and
 * `test/internals/ws-internals.spec.ts` fails loudly when a version changes what is used here).
 *
 * What for: a message published to many connections is framed once (`outbound-frame.ts`) and that one buffer is
 * written to each socket through ws's sender, where `socket.send(text)` would re-encode and re-frame it for each.
 */

/** The net socket under a WebSocket: what a burst is corked on. */
export interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

/** The net socket as a pre-built frame is written to it. */
export interface FrameSocket extends CorkableSocket {
  write(chunk: Buffer, callback?: () => void): boolean;
}

/** The part of ws's sender a pre-built frame is written through. */
export interface FrameSender {
  /** 0 (DEFAULT) unless it is compressing or reading a Blob: then it queues, and a direct write would overtake. */
  readonly _state: number;
  /** The net socket it writes to: a whole pre-built frame is written there directly (what `sendFrame` does). */
  readonly _socket: FrameSocket;
  sendFrame(list: Buffer[], cb?: () => void): void;
}

/** ws's sender state while nothing is queued in it (`DEFAULT` in ws's `lib/sender.js`). */
const SENDER_IDLE = 0;

/** Whether this `ws` writes pre-built frames (ESM exposes its sender as the named export `Sender`). */
export const PREBUILT_FRAMES =
  typeof (ws as unknown as { Sender?: { prototype?: Partial<FrameSender> } }).Sender?.prototype?.sendFrame ===
  'function';

/**
 * The socket's sender when a whole frame can be written through it now, without overtaking what ws queued (a
 * message being compressed); undefined otherwise: the caller then sends through `socket.send`, which queues.
 */
export function idleFrameSender(socket: WebSocket): FrameSender | undefined {
  const sender = (socket as unknown as { _sender?: FrameSender })._sender;
  return sender?._state === SENDER_IDLE ? sender : undefined;
}
