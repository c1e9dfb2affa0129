// Browser stories of direct messages: alice starts one from a room's members, bob finds it by
// typing her name, they talk live, and carol, who is in the room with them, never sees it. Same
// system and settings as chat.e2e.mjs (see harness.mjs); its artifacts go to the layout's
// artifacts directory, under direct/.
//
//   npm run e2e    (runs every suite, this one last)

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS } from './system.mjs';
import { expectMessages, live, register, room, send, suite } from './harness.mjs';

const e2e = suite(join(ARTIFACTS, 'direct'));
const { story, openBrowser, shot } = e2e;

const people = {};
/** Where alice's and bob's direct room lives, as alice's address bar shows it. */
let directPath = null;

const directGroup = (page) => page.getByRole('region', { name: /^Direct messages/ });
const messageSomeone = (page) => page.getByRole('textbox', { name: 'Message someone', exact: true });

story('alice, bob and carol share a room', async () => {
  for (const who of ['alice', 'bob', 'carol']) {
    people[who] = await openBrowser(who);
    await people[who].page.goto('/');
    await register(people[who].page, who);
  }
  const a = people.alice.page;
  await a.getByLabel('Room name').fill('team');
  await a.getByRole('button', { name: 'Create room', exact: true }).click();
  await a.getByRole('heading', { name: 'team' }).waitFor();
  for (const who of ['bob', 'carol']) {
    const p = people[who].page;
    await p.reload();
    await room(p, 'team').click();
    await p.getByRole('button', { name: 'Join', exact: true }).click();
    await live(p);
  }
  await directGroup(a).getByText('No direct messages yet.').waitFor();
});

story('alice messages bob from the room’s members: their direct room opens, named after him', async () => {
  const a = people.alice.page;
  await a.getByRole('button', { name: 'Members', exact: true }).click();
  const members = a.getByRole('region', { name: 'Members', exact: true });
  await members.getByText('carol').waitFor();
  assert.equal(await members.getByRole('button', { name: 'Message alice', exact: true }).count(), 0, 'not oneself');
  await members.getByRole('button', { name: 'Message bob', exact: true }).click();
  await a.getByRole('heading', { name: 'bob' }).waitFor();
  await live(a);
  directPath = new URL(a.url()).pathname;
  await room(directGroup(a), 'bob').waitFor();
  assert.equal(await a.getByRole('button', { name: 'Leave room', exact: true }).count(), 0, 'nobody leaves a direct room');
  await send(a, 'psst, bob');
  await expectMessages(a, ['psst, bob']);
  await shot(a, 'desktop-direct');
});

story('bob opens it by typing ALICE, and they talk live', async () => {
  const b = people.bob.page;
  await messageSomeone(b).fill('ALICE');
  await messageSomeone(b).press('Enter');
  await b.getByRole('heading', { name: 'alice' }).waitFor();
  await live(b);
  assert.equal(new URL(b.url()).pathname, directPath, 'the same room');
  await expectMessages(b, ['psst, bob']);
  await room(directGroup(b), 'alice').waitFor();
  await send(b, 'hi alice');
  await expectMessages(people.alice.page, ['psst, bob', 'hi alice']);
});

story('names that are nobody, or oneself, are refused with a reason', async () => {
  const b = people.bob.page;
  await messageSomeone(b).fill('nobody-here');
  await messageSomeone(b).press('Enter');
  await directGroup(b).getByRole('alert').getByText('No such user').waitFor();
  await messageSomeone(b).fill('Bob');
  await messageSomeone(b).press('Enter');
  await directGroup(b).getByRole('alert').getByText('A direct room needs two different people').waitFor();
});

story('carol never sees their direct room, not even at its address', async () => {
  const c = people.carol.page;
  await c.reload();
  await room(c, 'team').waitFor();
  await directGroup(c).getByText('No direct messages yet.').waitFor();
  await c.goto(directPath);
  await c.getByText('This room is private').first().waitFor();
  assert.equal(await c.getByText('psst, bob').count(), 0);
  for (const who of ['alice', 'bob', 'carol']) await people[who].ctx.close();
  e2e.pages.clear();
});
