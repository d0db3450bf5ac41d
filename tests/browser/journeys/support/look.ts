// What every journey checks on every screen it reaches: a screenshot at the
// desktop and the phone size (to .screenshots/, gitignored; when asked, the
// phone in the dark theme too), no horizontal scrolling at either width, and
// no serious or critical axe-core violation.
import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

export const SHOTS_DIR = '.screenshots';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Document width beyond the viewport (0 when nothing scrolls sideways). */
export async function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

export async function axeProblems(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

/**
 * Screenshots `name` at both sizes and checks layout and accessibility at
 * each; leaves the page at the size it found it.
 */
export async function look(page: Page, journey: string, name: string, opts: { dark?: boolean } = {}): Promise<void> {
  const dir = join(SHOTS_DIR, journey);
  mkdirSync(dir, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  const passes = [['desktop', DESKTOP, 'light'], ['phone', PHONE, 'light'], ...(opts.dark ? ([['phone-dark', PHONE, 'dark']] as const) : [])] as const;
  for (const [label, size, scheme] of passes) {
    await page.setViewportSize(size);
    await page.emulateMedia({ colorScheme: scheme });
    // Layout settles in the next frames (the grid measures its width).
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: join(dir, `${name}-${label}.png`) });
    expect(await sidewaysOverflow(page), `${name} scrolls sideways at ${size.width} px`).toBe(0);
    expect(await axeProblems(page), `${name} at ${size.width} px (${scheme})`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(before);
}

/**
 * Whether the element is wholly inside the viewport and not clipped by a
 * scrolling ancestor (a dialog taller than the phone): what a person sees
 * without scrolling.
 */
export async function inView(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    if (r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth) return false;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (!/(auto|scroll|hidden)/.test(s.overflowY)) continue;
      const b = p.getBoundingClientRect();
      if (r.top < b.top || r.bottom > b.bottom) return false;
    }
    return true;
  });
}
