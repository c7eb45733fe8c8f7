import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * Builds the dashboard into dashboard/dist. `base: './'` makes every asset URL relative, so the
 * same build works at `/` of the API server or under a reverse proxy's sub-path; the app routes
 * with the URL hash for the same reason (a path route would change what `./` points at).
 *
 * `vite --config dashboard/vite.config.ts` serves it for development, with /api proxied to a
 * running Braid server (BRAID_API_URL, default http://127.0.0.1:7777).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // elkjs alone is ~1.5 MB minified: one chunk for it keeps the app's own chunk small.
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { '/api': process.env.BRAID_API_URL ?? 'http://127.0.0.1:7777' },
  },
});
