import { launchChromium } from './tests/browser/support/chromium';
import { grantDelegation } from './tests/browser/support/sign-in';
const origin = 'http://127.0.0.1:4953';
const b = await launchChromium();
const page = await b.context.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.log('console:', m.text()); });
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.setViewportSize({ width: 1280, height: 800 });
await page.goto(origin + '/');
await page.waitForSelector('body[data-ready]');
await page.screenshot({ path: '/tmp/shots/landing.png' });
await grantDelegation(page, 3600_000);
await page.reload();
await page.waitForSelector('[data-testid=account-menu]');
await page.click('[data-testid=add]');
await page.setInputFiles('[data-testid=add-files]', [
  { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('89504e470d0a1a0a', 'hex') },
  { name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) },
  { name: 'نام بسیار طولانی 📸 '.repeat(8) + '.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('hello') },
]);
await page.waitForSelector('[data-testid=refused]');
await page.screenshot({ path: '/tmp/shots/add.png' });
await page.keyboard.press('Escape');
await page.waitForSelector('[data-testid=memory][data-status=icp]', { timeout: 60000 });
await page.screenshot({ path: '/tmp/shots/dash.png' });
await page.setViewportSize({ width: 390, height: 844 });
await page.screenshot({ path: '/tmp/shots/dash-phone.png' });
console.log('scrollWidth', await page.evaluate(() => document.documentElement.scrollWidth));
const id = await page.getAttribute('[data-testid=memory]', 'data-id');
await page.goto(origin + '/memories/' + id);
await page.waitForSelector('[data-testid=memory-heading]');
await page.click('[data-testid=verify]');
await page.waitForSelector('[data-testid=verified], [data-testid=mismatch], [role=alert]');
await page.screenshot({ path: '/tmp/shots/detail-phone.png', fullPage: true });
await b.close();
