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
    // Generous: CI machines are shared; a slow run must not fail on time (speed is measured under bench/).
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
