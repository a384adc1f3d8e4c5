import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { MessageContext, RealtimeConnection } from 'nestjs-realtime';
import { type Observable, tap } from 'rxjs';
import { MessageRepository } from './message.repository.js';

/** An after-message hook: once a handler has succeeded, keep the message. Failed ones are not kept. */
@Injectable()
export class PersistMessagesInterceptor implements NestInterceptor {
  constructor(private readonly messages: MessageRepository) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const client = context.switchToWs().getClient<RealtimeConnection>();
    const { frame, channel } = context.getArgByIndex<MessageContext>(2);
    return next
      .handle()
      .pipe(
        tap(() => this.messages.save({ type: frame.type, channel, sender: client.userId, payload: frame.payload })),
      );
  }
}
