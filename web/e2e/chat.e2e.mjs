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

import assert from 'node:assert/strict';
import { ARTIFACTS } from './system.mjs';
import { PASSWORD, PHONE, confirmed, expectMessages, live, messageBox, register, room, send, suite } from './harness.mjs';

const VAULT_PASSWORD = 'launch-2026';
const e2e = suite(ARTIFACTS);
const { story, openBrowser, shot, pages } = e2e;

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
  await e2e.system.kill();
  await a.getByText('Reconnecting…').first().waitFor();
  await b.getByText('Reconnecting…').first().waitFor();

  // Alice loses her network too, so her socket stays down after the server is back; what she
  // writes meanwhile waits in the page.
  await people.alice.ctx.setOffline(true);
  await send(a, 'Sorry, my train went into a tunnel');
  await a.getByRole('log').locator('li.msg.pending', { hasText: 'my train went into a tunnel' }).waitFor();

  await e2e.system.boot();
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

/** Whether the server still takes a token: the status of an authenticated read with it. */
async function statusWithToken(page, token) {
  return page.evaluate(
    async (t) => (await fetch('/users/me/rooms', { headers: { Authorization: `Bearer ${t}` } })).status,
    token,
  );
}

const storedToken = (page) => page.evaluate(() => localStorage.getItem('token'));

async function logIn(page, username, password) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

story('alice logs out: she lands on the login form, her token no longer works, and a reload does not log her back in', async () => {
  const a = people.alice.page;
  const token = await storedToken(a);
  assert.equal(await statusWithToken(a, token), 200);
  await a.getByRole('button', { name: 'Log out', exact: true }).click();
  await a.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  assert.equal(await storedToken(a), null);
  assert.equal(await statusWithToken(a, token), 401);
  await a.reload();
  await a.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  assert.equal(await a.getByRole('button', { name: 'Log out', exact: true }).count(), 0);
  await people.alice.ctx.close();
  pages.delete('alice');
});

const BOB_NEW_PASSWORD = 'staple-battery-horse';

story('bob changes his password in the room: refusals say why, then the chat goes on; the old password no longer logs in, the new one does', async () => {
  const b = people.bob.page;
  const oldToken = await storedToken(b);
  await b.getByRole('button', { name: 'Account', exact: true }).click();
  const account = b.getByRole('region', { name: 'Account' });
  const change = async (current, next, confirm = next) => {
    await account.getByLabel('Current password', { exact: true }).fill(current);
    await account.getByLabel('New password', { exact: true }).fill(next);
    await account.getByLabel('Confirm new password', { exact: true }).fill(confirm);
    await account.getByRole('button', { name: 'Change password', exact: true }).click();
  };
  await change('not-my-password', BOB_NEW_PASSWORD);
  await account.getByRole('alert').getByText('Incorrect current password').waitFor();
  await change(PASSWORD, 'short');
  await account.getByRole('alert').getByText('password must be at least 8 characters long').waitFor();
  await change(PASSWORD, BOB_NEW_PASSWORD, 'staple-battery-hose');
  await account.getByRole('alert').getByText('differ').waitFor();
  await change(PASSWORD, BOB_NEW_PASSWORD);
  await account.getByRole('status').getByText('Password changed').waitFor();
  await shot(b, 'desktop-account');

  // The old token is revoked, this browser goes on with the fresh one: still in the room, its
  // socket open again (the old one was closed with 4001), and what bob writes goes out.
  const newToken = await storedToken(b);
  assert.notEqual(newToken, oldToken);
  assert.equal(await statusWithToken(b, oldToken), 401);
  await b.getByRole('heading', { name: 'launch-plans' }).waitFor();
  await live(b);
  await send(b, 'New password, same me.');
  vaultLog.push('New password, same me.');
  await expectMessages(b, vaultLog);
  await b.waitForTimeout(1_500);
  assert.equal(await b.getByRole('button', { name: 'Log out', exact: true }).count(), 1, 'still logged in');
  assert.equal(await storedToken(b), newToken);

  const other = await openBrowser('bob-laptop');
  people.bobLaptop = other;
  const l = other.page;
  await l.goto('/');
  await logIn(l, 'bob', PASSWORD);
  await l.getByRole('alert').getByText('Incorrect username or password').waitFor();
  await logIn(l, 'bob', BOB_NEW_PASSWORD);
  await l.getByRole('button', { name: 'Log out', exact: true }).waitFor();
});

story('bob logs out everywhere from his laptop: his other browser, live in the room, is sent to the login screen', async () => {
  const b = people.bob.page;
  const l = people.bobLaptop.page;
  await live(b);
  await l.getByRole('button', { name: 'Account', exact: true }).click();
  await l.getByRole('button', { name: 'Log out everywhere', exact: true }).click();
  await l.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  assert.equal(await storedToken(l), null);

  // The other browser's socket closes with 4001: back to the login form, saying why.
  await b.getByRole('status').getByText('Your session has ended. Please log in again.').waitFor();
  await b.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  assert.equal(await storedToken(b), null);
  await b.reload();
  await b.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  await people.bob.ctx.close();
  await people.bobLaptop.ctx.close();
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
