/** Jest on native ESM: run through `npm test` (it sets --experimental-vm-modules). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^nestjs-realtime$': '<rootDir>/lib/index.ts',
    '^nestjs-realtime/(client|prometheus|terminus|redis|nats|testing|backend|protocol)$': '<rootDir>/lib/$1/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  testTimeout: 20000,
  setupFiles: ['<rootDir>/test/quickstart/test-env.ts'],
};
