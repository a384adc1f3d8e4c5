import type { IncomingMessage } from 'node:http';
import { getHandshakeToken, type RealtimeIdentity } from 'nestjs-realtime';

/**
 * A test authenticator: the token is the user id (`?token=alice`). `bad` is refused, `throw` makes it throw,
 * `roles:<user>:<role>` adds a role to the metadata.
 */
export function tokenIsUserId(request: IncomingMessage): RealtimeIdentity | null {
  const token = getHandshakeToken(request);
  if (token === undefined || token === 'bad') {
    return null;
  }
  if (token === 'throw') {
    throw new Error('authenticator exploded');
  }
  const [kind, user, role] = token.split(':');
  if (kind === 'roles') {
    return { userId: user, metadata: { roles: [role] } };
  }
  return { userId: token };
}
