import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    // A static SPA: the Hono server (or any static host) serves build/ and
    // falls back to index.html for client-side routes.
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: false }),
    // The page registers the service worker itself through workbox-window so it
    // can talk to it (update prompts, messages); SvelteKit only builds it.
    serviceWorker: { register: false },
    alias: { $worker: 'src-worker' },
  },
};

export default config;
