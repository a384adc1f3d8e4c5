import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { type Observable, tap } from 'rxjs';
import { RealtimeStats } from './realtime-stats.js';

/**
 * Counts every realtime message a handler takes, per type: how many, how many failed, and the time spent, in
 * `RealtimeService.stats().handlers` (and in Prometheus through `nestjs-realtime/prometheus`). Apply it with
 * `@UseInterceptors(RealtimeMetricsInterceptor)` or as an `APP_INTERCEPTOR`; other contexts pass through.
 */
@Injectable()
export class RealtimeMetricsInterceptor implements NestInterceptor {
  constructor(private readonly stats: RealtimeStats) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'ws') {
      return next.handle();
    }
    const type = String(context.switchToWs().getPattern());
    const started = performance.now();
    return next.handle().pipe(
      tap({
        complete: () => this.stats.handled(type, performance.now() - started, false),
        error: () => this.stats.handled(type, performance.now() - started, true),
      }),
    );
  }
}
