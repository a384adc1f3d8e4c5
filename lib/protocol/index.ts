export * from './codec.js';
export * from './envelope.js';
export * from './error-codes.js';
export * from './frames.js';
export * from './limits.js';
export * from './message-types.js';
export * from './wire-format.js';
