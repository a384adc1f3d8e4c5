/**
 * The timers of the process, taken when the kit is first imported: a test that installs fake timers afterwards
 * (`jest.useFakeTimers()`, `vi.useFakeTimers()`) drives the server's timers, while the kit's own timeouts keep real
 * time, so an expectation still fails instead of waiting forever.
 */
export const realSetTimeout: typeof setTimeout = globalThis.setTimeout.bind(globalThis);
export const realClearTimeout: typeof clearTimeout = globalThis.clearTimeout.bind(globalThis);
