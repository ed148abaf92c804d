import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const COMPRESSIBLE = /\.(js|css|html|svg|json|ttf|txt)$/;

/**
 * Writes `.br` and `.gz` next to every compressible file of the build, so that the server answers the first
 * request of a cold start without compressing anything (static.ts serves them by Accept-Encoding).
 */
function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'vigil-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((f) => {
          const p = join(dir, f);
          return statSync(p).isDirectory() ? walk(p) : [p];
        });
      for (const file of walk(outDir)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const body = readFileSync(file);
        if (body.length < 1024) continue;
        // Quality 11 costs seconds per MB: the multi-MB editor chunks get 9 (a few % larger, 10× faster).
        const quality = body.length > 1_000_000 ? 9 : 11;
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: quality } }),
        );
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
      }
    },
  };
}

// The console is served by `vigil serve` from dist/ (same origin as the API). Pages are split by route: the
// hunting page (Monaco + Microsoft's Kusto language service, several MB) and the charts load only when opened.
export default defineConfig({
  plugins: [react(), precompress()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 8000,
    reportCompressedSize: true,
  },
  worker: { format: 'es' },
  server: {
    // `npm run dev -w @vigil/web` with a server on :8080 (`vigil serve --port 8080`).
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
