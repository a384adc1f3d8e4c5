export * from './realtime.exception.js';
