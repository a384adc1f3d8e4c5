export { Channel } from './channel.decorator.js';
export { OnMessage } from './on-message.decorator.js';
export { ChannelName, ChannelParams, ConnectedClient, Envelope, Payload } from './params.decorators.js';
