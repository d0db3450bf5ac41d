import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// App build only; tests use the lead's vitest.config.ts.
export default defineConfig({
  plugins: [sveltekit()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 1500 },
  server: { fs: { allow: ['src-worker'] } },
});
