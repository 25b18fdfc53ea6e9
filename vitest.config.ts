import { defineConfig } from 'vitest/config'

// chDB binds one data directory per process and crashes inside worker threads,
// so every test file runs in a forked process (see test/support/stores.ts).
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
