import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { getHandshakeToken, type RealtimeAuthenticator } from 'nestjs-realtime';

@Injectable()
export class JwtAuthenticator implements RealtimeAuthenticator {
  constructor(private readonly jwt: JwtService) {}

  async authenticate(request: IncomingMessage) {
    const token = getHandshakeToken(request); // ?token=... or Authorization: Bearer ...
    if (!token) return null; // refused with HTTP 401
    const { sub } = await this.jwt.verifyAsync<{ sub: string }>(token); // a throw is a 401 too
    return { userId: sub };
  }
}
