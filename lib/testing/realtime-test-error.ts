/**
 * What a test client's request, subscription or handshake was refused with: the server's error code
 * (`FORBIDDEN`, `VALIDATION_FAILED`, `RATE_LIMITED`, ...) and details, or `HANDSHAKE_REFUSED` with the HTTP `status`
 * for a handshake answered without an upgrade.
 */
export class RealtimeTestError extends Error {
  /** `RealtimeTestError [CODE]`: a failing test's output shows the code before the server's message. */
  override readonly name: string;

  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** A refused handshake: its HTTP status. */
    readonly status?: number,
  ) {
    super(message);
    this.name = `RealtimeTestError [${code}]`;
  }
}
