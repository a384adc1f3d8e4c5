import { type CallHandler, type ExecutionContext, Injectable, Logger, type NestInterceptor } from '@nestjs/common';
import { type Observable, tap } from 'rxjs';
import type { MessageContext } from '../channels/channel-definition.js';
import type { RealtimeConnection } from '../interfaces/realtime-connection.interface.js';

/**
 * Logs every realtime message a handler takes, at debug level (quiet by default), with the connection id, the
 * type, the channel, the outcome and the time taken:
 * `[a1b2c3d4e5.7] chat:group in room:lobby handled in 2.1 ms`. Other contexts (HTTP) pass through untouched, so it
 * can be global (`app.useGlobalInterceptors(new RealtimeLoggingInterceptor())`).
 */
@Injectable()
export class RealtimeLoggingInterceptor implements NestInterceptor {
  readonly #logger = new Logger('Realtime');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'ws') {
      return next.handle();
    }
    const ws = context.switchToWs();
    const client = ws.getClient<RealtimeConnection>();
    const channel = context.getArgByIndex<MessageContext | undefined>(2)?.channel;
    const what = `[${client.id}] ${String(ws.getPattern())}${channel === undefined ? '' : ` in ${channel}`}`;
    const started = performance.now();
    const took = () => `${(performance.now() - started).toFixed(1)} ms`;
    return next.handle().pipe(
      tap({
        complete: () => this.#logger.debug(`${what} handled in ${took()}`),
        error: (error: unknown) =>
          this.#logger.debug(`${what} failed in ${took()}: ${error instanceof Error ? error.message : String(error)}`),
      }),
    );
  }
}
