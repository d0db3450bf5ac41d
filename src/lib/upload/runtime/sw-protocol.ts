// Messages from pages to the service worker.
export type SwRequest = { type: 'drain' };
