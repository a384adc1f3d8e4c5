import { randomBytes } from 'node:crypto';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Broker } from './broker/broker.js';
import { LocalBroker } from './broker/local-broker.js';
import { ChannelCatalog } from './channels/channel-catalog.js';
import { ChannelJoiner } from './channels/channel-joiner.js';
import { ChannelMembership } from './channels/channel-membership.js';
import { ChannelQueries } from './channels/channel-queries.js';
import { ControlFrames } from './channels/control-frames.js';
import { WhisperRelay } from './channels/whisper-relay.js';
import { HistoryStore } from './history/history-store.js';
import { MemoryHistoryStore } from './history/memory-history-store.js';
import { MemoryPresenceStore } from './presence/memory-presence-store.js';
import { PresenceStore } from './presence/presence-store.js';
import { PresenceTracker } from './presence/presence-tracker.js';
import { RealtimeMetricsInterceptor } from './operations/realtime-metrics.interceptor.js';
import { RealtimeStats } from './operations/realtime-stats.js';
import { FrameRateLimiter } from './protection/frame-rate-limiter.js';
import { MemoryRateLimitStore } from './protection/memory-rate-limit-store.js';
import { RateLimitBudget } from './protection/rate-limit-budget.js';
import { RateLimitGuard } from './protection/rate-limit.guard.js';
import { RateLimitStore } from './protection/rate-limit-store.js';
import { ConnectionCounter } from './connection/connection-counter.js';
import { ConnectionRegistry } from './connection/connection-registry.js';
import { MemoryConnectionCounter } from './connection/memory-connection-counter.js';
import { LocalDelivery } from './connection/local-delivery.js';
import { ErrorResponder } from './exceptions/error-responder.js';
import { NODE_ID, RESOLVED_OPTIONS } from './realtime.constants.js';
import {
  ConfigurableRealtimeModule,
  REALTIME_ASYNC_OPTIONS_TYPE,
  REALTIME_MODULE_OPTIONS,
  REALTIME_OPTIONS_TYPE,
} from './realtime.module-definition.js';
import {
  type RealtimeModuleOptions,
  type ResolvedRealtimeOptions,
  resolveRealtimeOptions,
} from './realtime.options.js';
import { DispatchTable } from './routing/dispatch-table.js';
import { HandlerPipelineFactory } from './routing/handler-pipeline.factory.js';
import { DirectMessages } from './routing/direct-messages.js';
import { InboundDispatcher } from './routing/inbound-dispatcher.js';
import { LifecycleHooks } from './routing/lifecycle-hooks.js';
import { MessageDispatcher } from './routing/message-dispatcher.js';
import { RealtimeMetadataAccessor } from './routing/realtime-metadata.accessor.js';
import { RealtimeExplorer } from './routing/realtime.explorer.js';
import { HandshakeAuthenticator } from './server/handshake-authenticator.js';
import { TokenExpiry } from './auth/token-expiry.js';
import { ConnectionLifecycle } from './server/connection-lifecycle.js';
import { HandshakeGate } from './server/handshake-gate.js';
import { RealtimeEndpoint } from './server/realtime-endpoint.js';
import { RealtimeNode } from './server/realtime-node.js';
import { EnvelopeFactory } from './service/envelope-factory.js';
import { RealtimeService } from './service/realtime.service.js';
import { UserSender } from './service/user-sender.js';
import { RealtimeAsyncApi } from './contract/realtime-asyncapi.js';

const providers: Provider[] = [
  {
    provide: RESOLVED_OPTIONS,
    useFactory: (options: RealtimeModuleOptions) => resolveRealtimeOptions(options),
    inject: [REALTIME_MODULE_OPTIONS],
  },
  {
    provide: Broker,
    useFactory: (options: ResolvedRealtimeOptions) => options.broker ?? new LocalBroker(),
    inject: [RESOLVED_OPTIONS],
  },
  {
    provide: PresenceStore,
    useFactory: (options: ResolvedRealtimeOptions) => options.presenceStore ?? new MemoryPresenceStore(),
    inject: [RESOLVED_OPTIONS],
  },
  {
    provide: HistoryStore,
    useFactory: (options: ResolvedRealtimeOptions) => options.historyStore ?? new MemoryHistoryStore(),
    inject: [RESOLVED_OPTIONS],
  },
  {
    provide: ConnectionCounter,
    useFactory: (options: ResolvedRealtimeOptions) => options.connectionCounter ?? new MemoryConnectionCounter(),
    inject: [RESOLVED_OPTIONS],
  },
  {
    provide: RateLimitStore,
    useFactory: (options: ResolvedRealtimeOptions) => options.rateLimitStore ?? new MemoryRateLimitStore(),
    inject: [RESOLVED_OPTIONS],
  },
  // Prefixes connection and message ids so they are unique across nodes and restarts.
  { provide: NODE_ID, useFactory: () => randomBytes(5).toString('hex') },
  ChannelCatalog,
  ChannelMembership,
  ChannelJoiner,
  ChannelQueries,
  ControlFrames,
  WhisperRelay,
  PresenceTracker,
  FrameRateLimiter,
  RateLimitBudget,
  RealtimeStats,
  RealtimeMetricsInterceptor,
  RateLimitGuard,
  ConnectionRegistry,
  LocalDelivery,
  ErrorResponder,
  DispatchTable,
  HandlerPipelineFactory,
  InboundDispatcher,
  LifecycleHooks,
  MessageDispatcher,
  RealtimeMetadataAccessor,
  RealtimeExplorer,
  HandshakeAuthenticator,
  RealtimeNode,
  HandshakeGate,
  ConnectionLifecycle,
  TokenExpiry,
  RealtimeEndpoint,
  EnvelopeFactory,
  UserSender,
  DirectMessages,
  RealtimeService,
  RealtimeAsyncApi,
];

/**
 * A WebSocket endpoint with channels, direct messages and broadcasts, routed through Nest's own pipeline.
 * Global by default (`isGlobal: false` to scope it): inject `RealtimeService` anywhere.
 *
 * @example
 * ```ts
 * @Module({ imports: [RealtimeModule.forRoot({ path: '/realtime', authenticate: JwtAuthenticator })] })
 * export class AppModule {}
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers,
  exports: [
    RealtimeService,
    RealtimeAsyncApi,
    Broker,
    PresenceStore,
    HistoryStore,
    ConnectionCounter,
    RateLimitStore,
    // What RateLimitGuard needs where @RateLimit applies it (an app's module): internal, not in the package's exports.
    RateLimitBudget,
    RateLimitGuard,
    RealtimeStats,
    RealtimeMetricsInterceptor,
  ],
})
export class RealtimeModule extends ConfigurableRealtimeModule {
  /** The module with these options (all optional: the embedded defaults are secure). */
  static forRoot(options: typeof REALTIME_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** The module with options from a factory, a class or an existing provider (with its imports and injections). */
  static forRootAsync(options: typeof REALTIME_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
