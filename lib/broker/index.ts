export { Broker, type BrokerHealth, type BrokerListener, type BrokerMessage, type PublishReport } from './broker.js';
export { ClusterBroker } from './cluster-broker.js';
export { LocalBroker } from './local-broker.js';
