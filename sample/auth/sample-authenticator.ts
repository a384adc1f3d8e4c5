import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { getHandshakeToken, type RealtimeAuthenticator, type RealtimeIdentity } from 'nestjs-realtime';
import { userColor } from './user-color.js';
import { isUserName } from './user-name.js';

/**
 * Accepts a handshake carrying a valid, unexpired token from `GET /api/token` (query `token` or Bearer header).
 * The user's color is its public info: other members of presence channels see it.
 */
@Injectable()
export class SampleAuthenticator implements RealtimeAuthenticator {
  constructor(private readonly jwt: JwtService) {}

  async authenticate(request: IncomingMessage): Promise<RealtimeIdentity | null> {
    const token = getHandshakeToken(request);
    if (!token) {
      return null;
    }
    const { sub } = await this.jwt.verifyAsync<{ sub?: unknown }>(token);
    return isUserName(sub) ? { userId: sub, info: { color: userColor(sub) } } : null;
  }
}
