import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import the packages from source, so `vitest` needs no build step; the CLI tests run the built `dist`.
export default defineConfig({
  resolve: {
    alias: {
      '@vigil/kql': fileURLToPath(new URL('./packages/kql/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
