export type * from './authenticator.interface.js';
export type * from './lifecycle.interface.js';
export type * from './realtime-connection.interface.js';
