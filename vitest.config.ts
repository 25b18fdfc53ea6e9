import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

// chDB binds one data directory per process and crashes inside worker threads,
// so every test file runs in a forked process (see test/support/stores.ts).
export default defineConfig({
  test: {
    pool: 'forks',
    // Vitest's default is one file fewer than the cores: one at a time on a 2-core CI machine,
    // where most files wait on child processes, sockets and timers more than they compute
    // (the serial run's wall time was above the sum of its files' test times).
    maxWorkers: Math.max(2, availableParallelism()),
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
