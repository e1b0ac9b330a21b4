/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// The dashboard. `npm run build` writes dist/, which Maven copies into the jar as webroot/ (served at /).
// `npm run dev` proxies the broker's API to a broker on localhost:8080 (bin/millrace start).
export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/api': 'http://localhost:8080',
      '/health': 'http://localhost:8080',
      '/ws': { target: 'ws://localhost:8080', ws: true },
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
