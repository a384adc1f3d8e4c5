export * from './realtime.exception.js';
export * from './realtime-failure.js';
