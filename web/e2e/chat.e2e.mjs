// End-to-end stories of the web client against the real system: `chat all` on a fresh
// PostgreSQL database, or the deployed layout behind Caddy (see system.mjs), driven in Debian's
// Chromium by playwright-core (never a downloaded browser).
//
//   npm run e2e                              (after `npm run build` and `cargo build --bin chat`;
//   CHAT_E2E_LAYOUT=topology npm run e2e      `make test-e2e` and `make test-e2e-topology` do all)
//
// Screenshots of each screen at desktop and phone widths go to e2e/artifacts/ (the topology's
// to e2e/artifacts-topology/), with the server's log and every WebSocket frame each browser
// saw; a failing story also leaves a screenshot of every open page there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { rm, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ARTIFACTS, ChatSystem } from './system.mjs';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const PASSWORD = 'correct-horse-battery';
const VAULT_PASSWORD = 'launch-2026';

/** @type {ChatSystem} */
let system;
/** @type {import('playwright-core').Browser} */
let browser;
/** Everyone's open page, by name, for failure screenshots. */
const pages = new Map();

before(async () => {
  await rm(ARTIFACTS, { recursive: true, force: true });
  await mkdir(ARTIFACTS, { recursive: true });
  system = await ChatSystem.start();
  system.killOnExit();
  // launch() gives the browser a fresh temporary --user-data-dir of its own and deletes it on
  // close (Playwright refuses the flag in `args`; it passes it itself).
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  await system?.stop();
});

let failed = false;

/** A story; each builds on the ones before it, so after a failure the rest are skipped. When
 * one fails, every open page is photographed and the server log's tail printed. */
function story(name, fn) {
  test(name, { timeout: 60_000 }, async (t) => {
    if (failed) return t.skip('an earlier story failed');
    try {
      await fn();
    } catch (e) {
      failed = true;
      for (const [who, page] of pages) {
        await page.screenshot({ path: join(ARTIFACTS, `failure-${who}.png`) }).catch(() => {});
      }
      const log = await readFile(system.logPath, 'utf8').catch(() => '');
      console.error(`--- last lines of ${system.logPath}\n${log.split('\n').slice(-40).join('\n')}`);
      throw e;
    }
  });
}

async function openBrowser(who, viewport = DESKTOP) {
  const ctx = await browser.newContext({ viewport, baseURL: system.baseUrl });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  pages.set(who, page);
  // Every frame each page's sockets see, for reading after a failure.
  const frames = createWriteStream(join(ARTIFACTS, `ws-${who}.log`));
  const stamp = () => new Date().toISOString().slice(11, 23);
  page.on('websocket', (ws) => {
    const url = ws.url().replace(/token=[^&]+/, 'token=…');
    frames.write(`${stamp()} open ${url}\n`);
    ws.on('framereceived', (f) => frames.write(`${stamp()} < ${f.payload}\n`));
    ws.on('framesent', (f) => frames.write(`${stamp()} > ${f.payload}\n`));
    ws.on('socketerror', (e) => frames.write(`${stamp()} error ${e}\n`));
    ws.on('close', () => frames.write(`${stamp()} closed ${url}\n`));
  });
  ctx.on('close', () => frames.end());
  return { ctx, page };
}

async function shot(page, name) {
  // Let fonts, focus rings and the last frame settle.
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

async function register(page, username) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page.getByRole('button', { name: 'Log out', exact: true }).waitFor();
}

const messageBox = (page) => page.getByRole('textbox', { name: 'Message', exact: true });
const room = (page, name) => page.getByRole('button', { name, exact: true });
const live = (page) => page.locator('.conn-pill', { hasText: 'Live' }).waitFor();

async function send(page, text) {
  await messageBox(page).fill(text);
  await messageBox(page).press('Enter');
}

/** The texts of the messages the server confirmed, in the order shown. */
function confirmed(page) {
  return page.getByRole('log').locator('li.msg:not(.pending) .bubble').allInnerTexts();
}

/** Waits until the confirmed messages are exactly `expected`, in order, none twice. */
async function expectMessages(page, expected, ms = 10_000) {
  const end = Date.now() + ms;
  let seen = [];
  while (Date.now() < end) {
    seen = await confirmed(page);
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(seen, expected, 'the conversation shown');
}

const people = {};
/** Every message of the private room, in the order the server sequenced them. */
const vaultLog = [];

story('a visitor sees the login form; alice registers and opens rooms, a private one with a password', async () => {
  const alice = await openBrowser('alice');
  people.alice = alice;
  const a = alice.page;
  await a.goto('/');
  await a.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  await shot(a, 'desktop-login');
  await register(a, 'alice');
  assert.equal(typeof (await a.evaluate(() => localStorage.getItem('token'))), 'string');

  for (const name of ['general', 'random']) {
    await a.getByLabel('Room name').fill(name);
    await a.getByRole('button', { name: 'Create room', exact: true }).click();
    await a.getByRole('heading', { name }).waitFor();
  }
  // The message box has focus once a room opens.
  assert.equal(await messageBox(a).evaluate((el) => el === document.activeElement), true);

  await a.getByLabel('Room name').fill('launch-plans');
  await a.getByLabel('Private').check();
  await a.getByRole('button', { name: 'Create room', exact: true }).click();
  await a.getByRole('alert').getByText('Private rooms require a password').waitFor();
  await a.getByLabel('Room password').fill(VAULT_PASSWORD);
  await a.getByRole('button', { name: 'Create room', exact: true }).click();
  await a.getByRole('heading', { name: 'launch-plans' }).waitFor();
  await a.waitForURL(/\/room\/[0-9a-f-]{36}$/);
  await live(a);
  for (const text of ['Morning! Draft of the launch checklist is in the doc.', 'Can you look at the pricing section?']) {
    await send(a, text);
    vaultLog.push(text);
  }
  await expectMessages(a, vaultLog);
});

story('bob registers in his own browser and joins the private room: a wrong password is refused, the right one lets him in', async () => {
  const bob = await openBrowser('bob');
  people.bob = bob;
  const b = bob.page;
  await b.goto('/');
  // A taken name, in any letter case, shows the server's refusal.
  await b.getByLabel('Username').fill('Alice');
  await b.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await b.getByRole('button', { name: 'Register', exact: true }).click();
  await b.getByRole('alert').getByText('Username already registered').waitFor();
  await register(b, 'bob');

  await room(b, 'launch-plans').waitFor();
  await shot(b, 'desktop-rooms');
  await room(b, 'launch-plans').click();
  await b.getByLabel('Room password').fill('guess');
  await b.getByRole('button', { name: 'Join', exact: true }).click();
  await b.getByRole('alert').getByText('Invalid room password').waitFor();
  await b.getByLabel('Room password').fill(VAULT_PASSWORD);
  await b.getByRole('button', { name: 'Join', exact: true }).click();
  await expectMessages(b, vaultLog);
  await live(b);
});

story('both see each other’s messages live, with typing and who is online', async () => {
  const a = people.alice.page;
  const b = people.bob.page;
  await a.getByText('2 online').waitFor();
  // Bob's join reached alice's socket, and her room list follows.
  await a.getByRole('log').getByText('bob joined the room').waitFor();
  await a.getByRole('button', { name: 'launch-plans', exact: true, description: /2 members/ }).waitFor();
  await messageBox(b).pressSequentially('On it');
  await a.getByText('bob is typing…').waitFor();
  await b.getByRole('button', { name: 'Send', exact: true }).click();
  vaultLog.push('On it');
  await expectMessages(a, vaultLog);

  for (const [page, text] of [
    [b, 'Pricing reads well. I would move the FAQ above the fold.'],
    [a, 'Good call, moving it now.'],
    [b, 'Ship it on Thursday?'],
  ]) {
    await send(page, text);
    vaultLog.push(text);
    await expectMessages(a, vaultLog);
    await expectMessages(b, vaultLog);
  }
  await shot(a, 'desktop-chat');
});

story('a reload keeps the session, the room and its history', async () => {
  const b = people.bob.page;
  const url = b.url();
  await b.reload();
  await b.getByRole('button', { name: 'Log out', exact: true }).waitFor();
  assert.equal(b.url(), url);
  await expectMessages(b, vaultLog);
  await live(b);
});

story('after the server is killed and restarted, a client that was away gets every message it missed, once', async () => {
  const a = people.alice.page;
  const b = people.bob.page;
  await system.kill();
  await a.getByText('Reconnecting…').first().waitFor();
  await b.getByText('Reconnecting…').first().waitFor();

  // Alice loses her network too, so her socket stays down after the server is back; what she
  // writes meanwhile waits in the page.
  await people.alice.ctx.setOffline(true);
  await send(a, 'Sorry, my train went into a tunnel');
  await a.getByRole('log').locator('li.msg.pending', { hasText: 'my train went into a tunnel' }).waitFor();

  await system.boot();
  await live(b);
  const missed = ['Thursday it is.', 'I will tell marketing.', 'Alice, ping me when you are back'];
  for (const text of missed) await send(b, text);
  vaultLog.push(...missed);
  await expectMessages(b, vaultLog);
  // Give a live socket ample time to deliver: alice's has none, so nothing arrives.
  await a.waitForTimeout(1_000);
  assert.equal(await a.locator('.conn-pill').innerText(), 'Reconnecting…');
  assert.deepEqual(await confirmed(a), vaultLog.slice(0, -missed.length), 'nothing reached alice while offline');

  // Back online: the socket resumes after the last seq alice saw, the gap arrives once and in
  // order, and her waiting message goes out once.
  await people.alice.ctx.setOffline(false);
  await live(a);
  vaultLog.push('Sorry, my train went into a tunnel');
  await expectMessages(a, vaultLog);
  await expectMessages(b, vaultLog);
  assert.equal(await a.getByRole('log').locator('li.msg.pending').count(), 0);
});

story('alice logs out and lands on the login form', async () => {
  const a = people.alice.page;
  await a.getByRole('button', { name: 'Log out', exact: true }).click();
  await a.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  assert.equal(await a.evaluate(() => localStorage.getItem('token')), null);
  await people.alice.ctx.close();
  await people.bob.ctx.close();
  pages.clear();
});

story('on a phone: log in, the room list, then the chat with a way back', async () => {
  const { ctx, page: c } = await openBrowser('carol', PHONE);
  await c.goto('/');
  await c.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  await shot(c, 'phone-login');
  await register(c, 'carol');
  await room(c, 'general').waitFor();
  await shot(c, 'phone-rooms');
  await room(c, 'launch-plans').click();
  await c.getByLabel('Room password').fill(VAULT_PASSWORD);
  await c.getByRole('button', { name: 'Join', exact: true }).click();
  await expectMessages(c, vaultLog);
  await live(c);
  await send(c, 'Hi both! Carol from design: the new screenshots are ready.');
  vaultLog.push('Hi both! Carol from design: the new screenshots are ready.');
  await expectMessages(c, vaultLog);
  await shot(c, 'phone-chat');
  const width = await c.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no horizontal scroll (scrollWidth ${width})`);
  await c.getByRole('button', { name: 'Back to rooms' }).click();
  await room(c, 'launch-plans').waitFor();
  // A mistyped room link says so rather than showing a parse error.
  await c.goto('/room/not-a-room');
  await c.getByRole('heading', { name: 'Room not found' }).waitFor();
  await ctx.close();
  pages.clear();
});
