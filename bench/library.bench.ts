// `npm run bench library`: the library screen at 10,000 memories against
// 100, both seeded through the server's API for two users of one
// `npm start`, opened in Chromium: time until the grid's first card is
// painted, and frame times while scrolling the middle of the grid at one pace, each as a ratio
// of the 10,000 figure to the 100 one (1.0 = no slower with 100× the data).
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { v7 as uuidv7 } from 'uuid';
import { CanisterReader } from '../src/lib/api/canister';
import { ServerApi } from '../src/lib/api/server';
import { launchChromium } from '../tests/browser/support/chromium';
import { npmStart, type StartedServer } from '../tests/browser/support/npm-start';
import { grantDelegation } from '../tests/browser/support/sign-in';
import { cookieFetch } from '../tests/client/support/local-stack';
import { buildApp } from '../tests/setup/app-build';

const LARGE = Number(process.env.BENCH_LIBRARY_N ?? 10_000);
const SMALL = 100;
const TYPES = ['image', 'video', 'audio', 'document', 'note'] as const;

async function seed(server: StartedServer, user: Ed25519KeyIdentity, n: number): Promise<void> {
  const canister = await CanisterReader.create(user, { host: server.origin, indexId: server.indexId, fetchRootKey: true });
  const api = new ServerApi(server.origin, (nonce) => canister.provePrincipal(nonce), cookieFetch());
  await api.signIn();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await api.putMemory(uuidv7(), { memory_type: TYPES[i % TYPES.length], title: `Memory ${i} — ${'a long title '.repeat(i % 4)}` });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

interface Figures {
  firstGridMs: number;
  frameP50: number;
  frameP95: number;
  frames: number;
}

async function measure(server: StartedServer, user: Ed25519KeyIdentity, n: number): Promise<Figures> {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.addInitScript('globalThis.__name = (f) => f');
    await page.goto(`${server.origin}/`);
    await page.waitForSelector('body[data-ready]');
    await grantDelegation(page, 3600_000, user);
    // Warm: service worker and caches in place, then the measured load.
    await page.reload();
    await page.waitForSelector(`[data-testid=grid][data-count="${n}"]`, { timeout: 300_000 });
    await page.reload();
    // The first painted grid is what the person sees first (the newest page of memories); scrolling waits for all of them.
    await page.waitForSelector('[data-testid=grid] [data-testid=memory]', { timeout: 300_000 });
    const firstGridMs = await page.evaluate(() => new Promise<number>((r) => requestAnimationFrame(() => r(performance.now()))));
    await page.waitForSelector(`[data-testid=grid][data-count="${n}"]`, { timeout: 300_000 });
    // Scroll at one steady pace in both libraries (a brisk 30 px a frame, down and back over the same
    // distance), in the middle of the grid, and record every frame's interval. The same pace matters: a
    // pace set by the grid's length would put a whole new screen of cards in every frame of the large one.
    const frames = await page.evaluate(async () => {
      const total = document.documentElement.scrollHeight - innerHeight;
      const span = Math.min(1800, total);
      const start = Math.max(0, Math.floor(total / 2 - span / 2));
      const steps = 240;
      const pace = 30;
      scrollTo(0, start);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const out: number[] = [];
      let last = performance.now();
      let y = 0;
      let dir = 1;
      for (let i = 1; i <= steps; i++) {
        y += dir * pace;
        if (y >= span || y <= 0) dir = -dir;
        y = Math.max(0, Math.min(span, y));
        scrollTo(0, start + y);
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        out.push(now - last);
        last = now;
      }
      return out;
    });
    frames.sort((a, b) => a - b);
    return { firstGridMs, frameP50: frames[Math.floor(frames.length * 0.5)], frameP95: frames[Math.floor(frames.length * 0.95)], frames: frames.length };
  } finally {
    await browser.close();
  }
}

export default async function run(): Promise<void> {
  buildApp();
  const server = await npmStart();
  try {
    const small = Ed25519KeyIdentity.generate();
    const large = Ed25519KeyIdentity.generate();
    const t = performance.now();
    await seed(server, small, SMALL);
    await seed(server, large, LARGE);
    console.log(`seeded ${SMALL} + ${LARGE} memories through PUT /api/memories in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const a = await measure(server, small, SMALL);
    const b = await measure(server, large, LARGE);
    const r = (x: number, y: number) => (y / x).toFixed(2);
    console.log('| figure | 100 memories | 10,000 memories | ratio |');
    console.log('| --- | --- | --- | --- |');
    console.log(`| time to first painted grid (ms) | ${a.firstGridMs.toFixed(0)} | ${b.firstGridMs.toFixed(0)} | ${r(a.firstGridMs, b.firstGridMs)} |`);
    console.log(`| scroll frame time p50 (ms) | ${a.frameP50.toFixed(1)} | ${b.frameP50.toFixed(1)} | ${r(a.frameP50, b.frameP50)} |`);
    console.log(`| scroll frame time p95 (ms) | ${a.frameP95.toFixed(1)} | ${b.frameP95.toFixed(1)} | ${r(a.frameP95, b.frameP95)} |`);
  } finally {
    await server.close();
  }
}
