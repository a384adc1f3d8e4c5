// The conformance suites' event log, shared with the project's own tests.
export { EventLog } from '../../lib/backend/conformance/event-log.js';
