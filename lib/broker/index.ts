export { Broker, type BrokerHealth, type BrokerListener, type BrokerMessage } from './broker.js';
export { LocalBroker } from './local-broker.js';
