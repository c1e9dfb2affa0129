/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Rust server (`chat all`) listens on 127.0.0.1:8000 by default and serves
// web/dist itself; in development Vite proxies every API path to it so that
// the client can keep using same-origin, relative URLs.
const API = 'http://127.0.0.1:8000';
const apiPaths = ['/auth', '/rooms', '/users', '/audit', '/docs', '/openapi.json'];

const proxy: Record<string, { target: string; changeOrigin?: boolean; ws?: boolean }> = {};
for (const p of apiPaths) proxy[p] = { target: API, changeOrigin: true };
proxy['/ws'] = { target: API, changeOrigin: true, ws: true };

export default defineConfig({
  plugins: [react()],
  server: { port: 5173, proxy },
  preview: { port: 4173, proxy },
  build: { outDir: 'dist', sourcemap: true },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    pool: 'threads',
    maxWorkers: 2,
  },
});
