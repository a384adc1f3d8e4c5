export type * from './authenticator.interface.js';
export type * from './lifecycle.interface.js';
export type * from './realtime-client.interface.js';
