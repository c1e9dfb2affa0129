// End-to-end checks of the web client in Debian's Chromium, driven by
// playwright-core (never a downloaded browser).
//
//   BASE_URL=http://127.0.0.1:8000 node --test e2e/          (a running server that serves web/dist)
//   npm run e2e                                              (starts e2e/mock-server.mjs itself)
//
// With the mock server (E2E_MOCK=1) the test also forces every socket closed,
// through a hook only the mock has, to check "Reconnecting…" and the resume.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const MOCK = process.env.E2E_MOCK === '1' || !process.env.BASE_URL;
const PORT = Number(process.env.E2E_PORT || 8765);
const BASE = process.env.BASE_URL || `http://127.0.0.1:${PORT}`;
const SHOTS = process.env.E2E_SCREENSHOTS || '';

let server;
let browser;
const uniq = Date.now().toString(36).slice(-6);

async function waitFor(url, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

before(async () => {
  if (MOCK && !process.env.BASE_URL) {
    server = spawn(process.execPath, [fileURLToPath(new URL('./mock-server.mjs', import.meta.url)), String(PORT)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  await waitFor(`${BASE}/rooms/`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

async function newUser(name, viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  await page.goto(BASE + '/');
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password', { exact: true }).fill('correct-horse');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page.getByRole('button', { name: 'Log out', exact: true }).waitFor();
  return { ctx, page };
}

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

test('register, create rooms, chat live, join a private room, survive a reconnect', async () => {
  const alice = await newUser(`alice_${uniq}`);
  const a = alice.page;
  assert.equal(await a.evaluate(() => typeof localStorage.getItem('token')), 'string');

  // A taken name shows the server's detail.
  const dup = await browser.newContext();
  const d = await dup.newPage();
  await d.goto(BASE + '/');
  await d.getByLabel('Username').fill(`alice_${uniq}`);
  await d.getByLabel('Password', { exact: true }).fill('correct-horse');
  await d.getByRole('button', { name: 'Register', exact: true }).click();
  await d.getByRole('alert').getByText('Username already registered').waitFor();
  await dup.close();

  // Public room; the message box has focus once the room opens.
  const pub = `lobby-${uniq}`;
  await a.getByLabel('Room name').fill(pub);
  await a.getByRole('button', { name: 'Create room', exact: true }).click();
  await a.waitForURL(/\/room\//);
  const box = a.getByRole('textbox', { name: 'Message', exact: true });
  await box.waitFor();
  assert.equal(await box.evaluate((el) => el === document.activeElement), true);

  // Private room without a password: the server's refusal is shown.
  await a.getByLabel('Room name').fill(`vault-${uniq}`);
  await a.getByLabel('Private').check();
  await a.getByRole('button', { name: 'Create room', exact: true }).click();
  await a.getByText('Private rooms require a password').waitFor();
  await a.getByLabel('Room password').fill('s3cret');
  await a.getByRole('button', { name: 'Create room', exact: true }).click();
  await a.getByRole('heading', { name: `vault-${uniq}` }).waitFor();
  await a.getByRole('textbox', { name: 'Message', exact: true }).fill('secret hello');
  await a.keyboard.press('Enter');
  await a.getByRole('log').getByText('secret hello').waitFor();

  // Bob joins the private room: wrong password first.
  const bob = await newUser(`bob_${uniq}`);
  const b = bob.page;
  await b.getByRole('button', { name: `vault-${uniq}`, exact: true }).click();
  await b.getByLabel('Room password').fill('wrong');
  await b.getByRole('button', { name: 'Join', exact: true }).click();
  await b.getByText('Invalid room password').waitFor();
  await b.getByLabel('Room password').fill('s3cret');
  await b.getByRole('button', { name: 'Join', exact: true }).click();
  await b.getByRole('log').getByText('secret hello').waitFor();
  await shot(b, 'desktop-chat');

  // Live both ways, with typing and presence.
  const bbox = b.getByRole('textbox', { name: 'Message', exact: true });
  await bbox.pressSequentially('hi alice');
  await a.getByText(`bob_${uniq} is typing…`).waitFor();
  await b.getByRole('button', { name: 'Send', exact: true }).click();
  await a.getByRole('log').getByText('hi alice').waitFor();
  await a.getByText('2 online').waitFor();

  if (MOCK) {
    // Every socket drops; messages posted meanwhile arrive after the resume.
    const roomId = decodeURIComponent(new URL(a.url()).pathname.split('/').pop());
    await fetch(`${BASE}/__test__/drop-sockets`, { method: 'POST' });
    await a.getByText('Reconnecting…').first().waitFor();
    await fetch(`${BASE}/__test__/post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ room_id: roomId, username: `bob_${uniq}`, content: 'sent while you were away' }),
    });
    await a.getByRole('log').getByText('sent while you were away').waitFor();
    await a.getByText('Live', { exact: true }).waitFor();
    assert.equal(await a.getByRole('log').getByText('sent while you were away').count(), 1);
  }

  // Reload keeps the session and the route; history is there.
  await a.reload();
  await a.getByRole('log').getByText('hi alice').waitFor();

  // Log out returns to the login form.
  await a.getByRole('button', { name: 'Log out', exact: true }).click();
  await a.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  assert.equal(await a.evaluate(() => localStorage.getItem('token')), null);

  await alice.ctx.close();
  await bob.ctx.close();
});

test('phone width: room list, then the chat with a back button', async () => {
  const carol = await newUser(`carol_${uniq}`, { width: 375, height: 740 });
  const c = carol.page;
  await shot(c, 'phone-rooms');
  await c.getByRole('button', { name: `lobby-${uniq}`, exact: true }).click();
  await c.getByRole('button', { name: 'Join', exact: true }).click();
  const box = c.getByRole('textbox', { name: 'Message', exact: true });
  await box.fill('hello from a phone');
  await box.press('Enter');
  await c.getByRole('log').getByText('hello from a phone').waitFor();
  await shot(c, 'phone-chat');
  const width = await c.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scroll (scrollWidth ${width})`);
  await c.getByRole('button', { name: 'Back to rooms' }).click();
  await c.getByRole('button', { name: `lobby-${uniq}`, exact: true }).waitFor();
  await carol.ctx.close();
});
