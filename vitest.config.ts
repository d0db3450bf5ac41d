import { defineConfig } from 'vitest/config';

// Node-side suites and the Chromium suites (playwright-core) all run under vitest.
// Files run in separate forks; two cores on CI, so at most two at a time.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // Limits on time only, never on what a test asserts: the browser and
    // crash suites drive real uploads through the local IC, and two suites
    // share CI's two cores.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    globalSetup: ['tests/setup/global.ts', 'tests/setup/postgres.ts', 'tests/setup/app-build.ts'],
  },
});
