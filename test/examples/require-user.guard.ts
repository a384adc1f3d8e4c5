import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type RealtimeConnection, UnauthorizedRealtimeException } from 'nestjs-realtime';

const IS_PUBLIC = 'isPublic';

/** Lets anonymous connections use a handler (or a whole class) despite RequireUserGuard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** A global before-message hook: realtime handlers need a signed-in user, unless marked @Public(). */
@Injectable()
export class RequireUserGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'ws') {
      return true; // HTTP routes have their own guards
    }
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (!isPublic && context.switchToWs().getClient<RealtimeConnection>().userId === null) {
      throw new UnauthorizedRealtimeException('Sign in first');
    }
    return true;
  }
}
