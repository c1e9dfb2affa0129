// What every browser suite shares: the real system (system.mjs) started once per suite, one
// Chromium, browsers for each person with every WebSocket frame they see logged, stories that
// stop the suite at the first failure (after photographing every open page), and the steps
// people take in the client.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { rm, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ChatSystem } from './system.mjs';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const PASSWORD = 'correct-horse-battery';

/** Starts the system before the suite's stories and stops it after; `artifacts` is the suite's
 * directory, emptied first. */
export function suite(artifacts) {
  const s = {
    /** @type {ChatSystem} */
    system: null,
    /** @type {import('playwright-core').Browser} */
    browser: null,
    /** Everyone's open page, by name, for failure screenshots. */
    pages: new Map(),
    failed: false,
    artifacts,
  };

  before(async () => {
    await rm(artifacts, { recursive: true, force: true });
    await mkdir(artifacts, { recursive: true });
    s.system = await ChatSystem.start({ artifacts });
    s.system.killOnExit();
    // launch() gives the browser a fresh temporary --user-data-dir of its own and deletes it on
    // close (Playwright refuses the flag in `args`; it passes it itself).
    s.browser = await chromium.launch({
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
    await s.browser?.close();
    await s.system?.stop();
  });

  /** A story; each builds on the ones before it, so after a failure the rest are skipped. When
   * one fails, every open page is photographed and the server log's tail printed. */
  s.story = (name, fn) =>
    test(name, { timeout: 60_000 }, async (t) => {
      if (s.failed) return t.skip('an earlier story failed');
      try {
        await fn();
      } catch (e) {
        s.failed = true;
        for (const [who, page] of s.pages) {
          await page.screenshot({ path: join(artifacts, `failure-${who}.png`) }).catch(() => {});
        }
        const log = await readFile(s.system.logPath, 'utf8').catch(() => '');
        console.error(`--- last lines of ${s.system.logPath}\n${log.split('\n').slice(-40).join('\n')}`);
        throw e;
      }
    });

  s.openBrowser = async (who, viewport = DESKTOP) => {
    const ctx = await s.browser.newContext({ viewport, baseURL: s.system.baseUrl });
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    s.pages.set(who, page);
    // Every frame each page's sockets see, for reading after a failure.
    const frames = createWriteStream(join(artifacts, `ws-${who}.log`));
    const stamp = () => new Date().toISOString().slice(11, 23);
    page.on('websocket', (ws) => {
      // Sockets open with single-use tickets: the URL carries no token to hide.
      const url = ws.url();
      frames.write(`${stamp()} open ${url}\n`);
      ws.on('framereceived', (f) => frames.write(`${stamp()} < ${f.payload}\n`));
      ws.on('framesent', (f) => frames.write(`${stamp()} > ${f.payload}\n`));
      ws.on('socketerror', (e) => frames.write(`${stamp()} error ${e}\n`));
      ws.on('close', () => frames.write(`${stamp()} closed ${url}\n`));
    });
    ctx.on('close', () => frames.end());
    return { ctx, page };
  };

  s.shot = async (page, name) => {
    // Let fonts, focus rings and the last frame settle.
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(artifacts, `${name}.png`) });
  };

  return s;
}

export async function register(page, username) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page.getByRole('button', { name: 'Log out', exact: true }).waitFor();
}

export const messageBox = (page) => page.getByRole('textbox', { name: 'Message', exact: true });
export const room = (page, name) => page.getByRole('button', { name, exact: true });
export const live = (page) => page.locator('.conn-pill', { hasText: 'Live' }).waitFor();

export async function send(page, text) {
  await messageBox(page).fill(text);
  await messageBox(page).press('Enter');
}

/** The texts of the messages the server confirmed, in the order shown. */
export function confirmed(page) {
  return page.getByRole('log', { name: 'Conversation' }).locator('li.msg:not(.pending) .bubble').allInnerTexts();
}

/** Waits until the confirmed messages are exactly `expected`, in order, none twice. */
export async function expectMessages(page, expected, ms = 10_000) {
  const end = Date.now() + ms;
  let seen = [];
  while (Date.now() < end) {
    seen = await confirmed(page);
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(seen, expected, 'the conversation shown');
}
