// Browser stories of what happens to a message after it is posted, between two people in their
// own browsers: edits, deletions, reactions, replies in a thread and mentions, each arriving
// live in the other browser. Same system and settings as chat.e2e.mjs (see harness.mjs); its
// artifacts go to the layout's artifacts directory, under messages/.
//
//   npm run e2e    (runs both suites, this one second)

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS } from './system.mjs';
import { PHONE, expectMessages, live, register, room, send, suite } from './harness.mjs';

const e2e = suite(join(ARTIFACTS, 'messages'));
const { story, openBrowser, shot } = e2e;

const people = {};
/** The room's messages as everyone should see them, in order. */
const shown = [];

const conversation = (page) => page.getByRole('log', { name: 'Conversation' });
const row = (scope, text) => scope.locator('li.msg', { hasText: text });
const thread = (page) => page.getByRole('complementary', { name: 'Thread' });

story('alice and bob meet in a public room, each in their own browser', async () => {
  people.alice = await openBrowser('alice');
  people.bob = await openBrowser('bob');
  const a = people.alice.page;
  const b = people.bob.page;
  await a.goto('/');
  await register(a, 'alice');
  await a.getByLabel('Room name').fill('design-review');
  await a.getByRole('button', { name: 'Create room', exact: true }).click();
  await a.getByRole('heading', { name: 'design-review' }).waitFor();
  await live(a);

  await b.goto('/');
  await register(b, 'bob');
  await room(b, 'design-review').click();
  await b.getByRole('button', { name: 'Join', exact: true }).click();
  await live(b);
  await a.getByText('2 online').waitFor();

  await send(a, 'The header mockup is up for review');
  shown.push('The header mockup is up for review');
  await expectMessages(a, shown);
  await expectMessages(b, shown);
});

story('alice edits her message: bob sees the new text live, marked edited; bob cannot edit it', async () => {
  const a = people.alice.page;
  const b = people.bob.page;
  const mine = row(conversation(a), 'The header mockup');
  await mine.getByRole('button', { name: 'Edit', exact: true }).click();
  const box = a.getByRole('textbox', { name: 'Edit message', exact: true });
  // Escape leaves the text as it was.
  await box.fill('something else');
  await box.press('Escape');
  assert.equal(await box.count(), 0);
  await mine.getByRole('button', { name: 'Edit', exact: true }).click();
  await box.fill('The header and footer mockups are up for review');
  await box.press('Enter');
  shown[0] = 'The header and footer mockups are up for review';
  await expectMessages(a, shown);
  await expectMessages(b, shown);
  const theirs = row(conversation(b), 'footer mockups');
  await theirs.getByText('(edited)').waitFor();
  assert.equal(await theirs.getByRole('button', { name: 'Edit', exact: true }).count(), 0, 'no Edit on someone else’s message');
  assert.equal(await theirs.getByRole('button', { name: 'Delete', exact: true }).count(), 0, 'no Delete for a member');
});

story('bob reacts from the picker, alice adds hers by its chip, bob takes his back: both see every count live', async () => {
  const a = people.alice.page;
  const b = people.bob.page;
  const onB = row(conversation(b), 'footer mockups');
  const onA = row(conversation(a), 'footer mockups');
  await onB.getByRole('button', { name: 'Add reaction', exact: true }).click();
  // The picker takes the focus; Escape closes it, and the keyboard can pick.
  await onB.getByRole('button', { name: 'React with 🎉', exact: true }).waitFor();
  await b.keyboard.press('Escape');
  await onB.getByRole('button', { name: 'Add reaction', exact: true }).press('Enter');
  await onB.getByRole('button', { name: 'React with 👍', exact: true }).click();
  await onA.getByRole('button', { name: '👍 1: bob', exact: true }).waitFor();

  await onA.getByRole('button', { name: '👍 1: bob', exact: true }).click();
  await onB.getByRole('button', { name: '👍 2: bob and alice', exact: true }).waitFor();
  const chip = onA.getByRole('button', { name: '👍 2: bob and alice', exact: true });
  assert.equal(await chip.getAttribute('aria-pressed'), 'true');
  assert.equal(await chip.getAttribute('title'), 'bob and alice');
  await shot(a, 'desktop-reactions');

  await onB.getByRole('button', { name: '👍 2: bob and alice', exact: true }).click();
  await onA.getByRole('button', { name: '👍 1: alice', exact: true }).waitFor();
  assert.equal(await onB.getByRole('button', { name: '👍 1: alice', exact: true }).getAttribute('aria-pressed'), 'false');
});

story('bob replies in a thread: alice sees the count live, opens the thread beside the room, and answers there', async () => {
  const a = people.alice.page;
  const b = people.bob.page;
  await row(conversation(b), 'footer mockups').getByRole('button', { name: 'Reply', exact: true }).click();
  const bThread = thread(b);
  await bThread.getByText('No replies yet.').waitFor();
  const replyBox = (page) => thread(page).getByRole('textbox', { name: 'Reply', exact: true });
  await replyBox(b).fill('Looks good; the footer links are too close together');
  await replyBox(b).press('Enter');
  await row(bThread.getByRole('log', { name: 'Replies' }), 'footer links').waitFor();

  const count = row(conversation(a), 'footer mockups').getByRole('button', { name: '1 reply', exact: true });
  await count.click();
  const aThread = thread(a);
  await row(aThread.getByRole('log', { name: 'Replies' }), 'footer links are too close').waitFor();
  await replyBox(a).fill('Spacing fixed, thanks');
  await replyBox(a).press('Enter');
  await row(bThread.getByRole('log', { name: 'Replies' }), 'Spacing fixed').waitFor();
  await row(conversation(b), 'footer mockups').getByRole('button', { name: '2 replies', exact: true }).waitFor();
  // Replies live in the thread, not in the room's list.
  await expectMessages(a, shown);
  await expectMessages(b, shown);
  await shot(a, 'desktop-thread');
  await aThread.getByRole('button', { name: 'Close thread', exact: true }).click();
  await b.keyboard.press('Escape');
  await replyBox(b).waitFor({ state: 'detached' });
});

story('bob mentions alice: her name stands out in her browser, and is set apart in his', async () => {
  const a = people.alice.page;
  const b = people.bob.page;
  await send(b, '@alice can you check the mobile spacing?');
  shown.push('@alice can you check the mobile spacing?');
  await expectMessages(a, shown);
  const onA = row(conversation(a), 'mobile spacing');
  await onA.locator('.mention.mention-me', { hasText: '@alice' }).waitFor();
  assert.match(await onA.getAttribute('class'), /mentions-me/);
  const onB = row(conversation(b), 'mobile spacing');
  await onB.locator('.mention', { hasText: '@alice' }).waitFor();
  assert.equal(await onB.locator('.mention-me').count(), 0, 'bob is not the one mentioned');
  // Someone who is not a member is not a mention.
  await send(b, 'and @nobody-here too');
  shown.push('and @nobody-here too');
  await expectMessages(a, shown);
  assert.equal(await row(conversation(a), '@nobody-here').locator('.mention').count(), 0);
});

story('alice deletes her message and, as the room’s owner, bob’s: bob sees tombstones live, never the old text, after a reload too', async () => {
  const a = people.alice.page;
  const b = people.bob.page;
  const mine = row(conversation(a), 'footer mockups');
  await mine.getByRole('button', { name: 'Delete', exact: true }).click();
  // A confirmation first; Cancel keeps the message.
  await mine.getByRole('group', { name: 'Confirm deletion' }).getByRole('button', { name: 'Cancel', exact: true }).click();
  await mine.getByRole('button', { name: 'Delete', exact: true }).click();
  await mine.getByRole('group', { name: 'Confirm deletion' }).getByRole('button', { name: 'Delete', exact: true }).click();
  shown[0] = 'message deleted';
  await expectMessages(a, shown);
  await expectMessages(b, shown);

  const theirs = row(conversation(a), 'and @nobody-here');
  await theirs.getByRole('button', { name: 'Delete', exact: true }).click();
  await theirs.getByRole('group', { name: 'Confirm deletion' }).getByRole('button', { name: 'Delete', exact: true }).click();
  shown[2] = 'message deleted';
  await expectMessages(a, shown);
  await expectMessages(b, shown);
  // The tombstone keeps its thread, has no actions, and hides the old text everywhere.
  const tomb = conversation(b).locator('li.msg.deleted').first();
  await tomb.getByRole('button', { name: '2 replies', exact: true }).waitFor();
  assert.equal(await tomb.getByRole('button', { name: 'Add reaction' }).count(), 0);
  for (const gone of ['footer mockups', 'nobody-here']) assert.equal(await b.getByText(gone).count(), 0, gone);
  await shot(b, 'desktop-deleted');

  await b.reload();
  await live(b);
  await expectMessages(b, shown);
  for (const gone of ['footer mockups', 'nobody-here']) assert.equal(await b.getByText(gone).count(), 0, gone);
});

story('on a phone the thread opens below the conversation', async () => {
  const { ctx, page: c } = await openBrowser('carol', PHONE);
  await c.goto('/');
  await register(c, 'carol');
  await room(c, 'design-review').click();
  await c.getByRole('button', { name: 'Join', exact: true }).click();
  await live(c);
  await expectMessages(c, shown);
  await row(conversation(c), 'mobile spacing').getByRole('button', { name: 'Reply', exact: true }).click();
  const panel = thread(c);
  await panel.getByText('No replies yet.').waitFor();
  const [pane, below] = await Promise.all([c.locator('.chat-main').boundingBox(), panel.boundingBox()]);
  assert.ok(below.y >= pane.y + pane.height - 1, 'the thread is below the conversation');
  const width = await c.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no horizontal scroll (scrollWidth ${width})`);
  await shot(c, 'phone-thread');
  await ctx.close();
  await people.alice.ctx.close();
  await people.bob.ctx.close();
  e2e.pages.clear();
});
