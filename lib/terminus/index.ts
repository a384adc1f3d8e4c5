import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { RealtimeService } from '../service/realtime.service.js';

/**
 * A `@nestjs/terminus` health indicator: up while the realtime endpoint accepts connections and its broker can
 * deliver; down during shutdown or when the broker is down, with the reason. Requires `@nestjs/terminus` 11+.
 *
 * @example
 * ```ts
 * @Get('health')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.realtime.isHealthy()]);
 * }
 * ```
 */
@Injectable()
export class RealtimeHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly realtime: RealtimeService,
  ) {}

  /** The realtime layer's health for a terminus `HealthCheckService.check([...])`: up, or down with the reason. */
  isHealthy(key = 'realtime'): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    const { up, accepting, connections, broker } = this.realtime.health();
    const details = { accepting, connections, broker: broker.up ? 'up' : `down: ${broker.reason ?? 'unknown'}` };
    return up ? indicator.up(details) : indicator.down(details);
  }
}
