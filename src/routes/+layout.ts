// A client-only SPA: IndexedDB, workers and the auth client exist only in the browser.
export const ssr = false;
export const prerender = false;
