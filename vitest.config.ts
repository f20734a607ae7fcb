import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // s3rver paginates lists with a legacy cipher; without this it answers 500 on truncated lists.
    poolOptions: { forks: { execArgv: ['--openssl-legacy-provider'] } },
  },
});
