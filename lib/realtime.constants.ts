/** DI token of the resolved, validated options. */
export const RESOLVED_OPTIONS = Symbol('realtime:resolved-options');
/** DI token of this node's id (a prefix of its connection and message ids). */
export const NODE_ID = Symbol('realtime:node-id');

/** Metadata keys written by the decorators. */
export const CHANNEL_METADATA = 'realtime:channel';
export const MESSAGE_METADATA = 'realtime:message';
export const RATE_LIMIT_METADATA = 'realtime:rate-limit';
/** Nest's key for parameter decorators (`@MessageBody()`, `@ConnectedSocket()` and ours share it). */
export const ROUTE_ARGS_METADATA = '__routeArguments__';
/** Nest's keys for `@UseGuards`, `@UseInterceptors`, `@UsePipes` and `@UseFilters` (stable since Nest 5). */
export const GUARDS_METADATA = '__guards__';
export const ENHANCER_METADATA = [GUARDS_METADATA, '__interceptors__', '__pipes__', '__exceptionFilters__'] as const;
