import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The second names every skipped test: a test that cannot run here says so, with its reason.
    reporters: ['default', './test/helpers/skipped-reporter.ts'],
    globalSetup: ['./test/helpers/temp-root.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // s3rver paginates lists with a legacy cipher; without this it answers 500 on truncated lists.
    poolOptions: { forks: { execArgv: ['--openssl-legacy-provider'] } },
  },
});
