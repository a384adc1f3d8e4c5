// The conformance suites' polling helper, shared with the project's own tests.
export { waitUntil } from '../../lib/backend/conformance/wait-until.js';
