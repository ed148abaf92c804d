import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by `vigil serve` from dist/ (same origin as the API). Pages are split by route: the
// hunting page (Monaco + Microsoft's Kusto language service, several MB) and the charts load only when opened.
export default defineConfig({
  plugins: [react()],
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
