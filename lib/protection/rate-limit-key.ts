import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';

/** Whose bucket a frame takes from: the user's (all its devices share it), or the connection's when anonymous. */
export function rateLimitSubject(client: RealtimeConnection): string {
  return client.userId === null ? `c:${client.id}` : `u:${client.userId}`;
}
