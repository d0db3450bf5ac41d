import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// App build only; tests use the lead's vitest.config.ts.
export default defineConfig({
  plugins: [sveltekit()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    // The bundler's timing report is a profiling aid, not a warning: keep `npm start` quiet.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: { fs: { allow: ['src-worker'] } },
});
