// Browser stories of reading: unread badges in the sidebar that clear as a room is read, and the
// "Seen by" line under the last message, kept live from the other person's browser. Same system
// and settings as chat.e2e.mjs (see harness.mjs); artifacts under unread/.
//
//   npm run e2e    (runs every suite, this one last)

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS } from './system.mjs';
import { expectMessages, live, register, room, send, suite } from './harness.mjs';

const e2e = suite(join(ARTIFACTS, 'unread'));
const { story, openBrowser, shot } = e2e;

const people = {};
const shown = [];

const badge = (page, name) => room(page, name).locator('.unread-badge');
const receipt = (page) => page.locator('.read-receipt');

/** Waits until the room's badge reads `text` ('' for no badge), asking the server again on each
 * try as a window coming back into focus does. */
async function expectBadge(page, name, text, ms = 20_000) {
  const end = Date.now() + ms;
  let seen = '';
  while (Date.now() < end) {
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.waitForTimeout(300);
    const b = badge(page, name);
    seen = (await b.count()) === 0 ? '' : await b.innerText();
    if (seen === text) return;
  }
  assert.equal(seen, text, `the unread badge of ${name}`);
}

async function createRoom(page, name) {
  await page.getByLabel('Room name').fill(name);
  await page.getByRole('button', { name: 'Create room', exact: true }).click();
  await page.getByRole('heading', { name }).waitFor();
  await live(page);
}

async function joinRoom(page, name) {
  await room(page, name).click();
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await live(page);
}

story('alice and bob share two rooms; bob stays in one while alice talks in the other', async () => {
  people.alice = await openBrowser('alice');
  people.bob = await openBrowser('bob');
  const a = people.alice.page;
  const b = people.bob.page;
  await a.goto('/');
  await register(a, 'alice');
  await createRoom(a, 'standup');
  await createRoom(a, 'random');
  await b.goto('/');
  await register(b, 'bob');
  await joinRoom(b, 'random');
  await joinRoom(b, 'standup');

  for (const text of ['Anyone up for lunch?', 'The new place on Main St.']) {
    await send(a, text);
    shown.push(text);
  }
  await expectMessages(a, shown);
  await expectBadge(b, 'random', '2');
  await expectBadge(b, 'standup', '');
  await shot(b, 'unread-badge');
});

story('bob opens the room: its badge clears, and alice sees that bob has seen her message', async () => {
  const a = people.alice.page;
  const b = people.bob.page;
  assert.equal(await receipt(a).count(), 0, 'nobody has seen it yet');
  await room(b, 'random').click();
  await live(b);
  await expectMessages(b, shown);
  assert.equal(await badge(b, 'random').count(), 0, 'no badge on the room being read');
  await receipt(a).filter({ hasText: 'Seen by bob' }).waitFor();
  await shot(a, 'seen-by-bob');

  await room(b, 'standup').click();
  await live(b);
  await expectBadge(b, 'random', '');
});

story('a new message is unseen until bob reads it, then seen again, live', async () => {
  const a = people.alice.page;
  const b = people.bob.page;
  await send(a, 'Meet at noon');
  shown.push('Meet at noon');
  await expectMessages(a, shown);
  await receipt(a).waitFor({ state: 'detached' });
  await expectBadge(b, 'random', '1');
  await room(b, 'random').click();
  await expectMessages(b, shown);
  await receipt(a).filter({ hasText: 'Seen by bob' }).waitFor();
  await room(b, 'standup').click();
  await expectBadge(b, 'random', '');
});
