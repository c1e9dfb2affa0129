// Browser stories of searching messages: the search box in the sidebar, results whose snippets
// show the matched words marked and any markup in a message as the text it is, and a result that
// opens its room at the message, loading older history until it is there. Same system and
// settings as chat.e2e.mjs (see harness.mjs); its artifacts go under search/.
//
//   npm run e2e    (runs every suite, this one last)

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS } from './system.mjs';
import { PASSWORD, live, register, room, suite } from './harness.mjs';

const e2e = suite(join(ARTIFACTS, 'search'));
const { story, openBrowser, shot } = e2e;

const people = {};
const TARGET = 'Ship the <b>release</b> notes on Friday';
/** More than the first history page (50), so the found message is not on it. */
const LATER_MESSAGES = 70;

/** The API as a person outside the browser uses it. */
async function call(method, path, token, body) {
  const res = await fetch(new URL(path, e2e.system.baseUrl), {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.status === 204 ? null : res.json();
}

async function tokenOf(username) {
  return (await call('POST', '/auth/login', null, { username, password: PASSWORD })).access_token;
}

/** Waits until the server's search finds `q` for the holder of `token` (the projector applies
 * posts a moment after they are answered). */
async function searchable(token, q) {
  for (let tries = 0; tries < 100; tries++) {
    const page = await call('GET', `/search/messages?q=${encodeURIComponent(q)}`, token);
    if (page.results.length > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${q} never became searchable`);
}

const searchBox = (page) => page.getByRole('searchbox', { name: 'Search messages' });
const results = (page) => page.getByRole('list', { name: 'Search results' });

story('carol finds a message deep in a room’s history, its markup shown as plain text', async () => {
  people.carol = await openBrowser('carol');
  const c = people.carol.page;
  await c.goto('/');
  await register(c, 'carol');
  await c.getByLabel('Room name').fill('release-planning');
  await c.getByRole('button', { name: 'Create room', exact: true }).click();
  await c.getByRole('heading', { name: 'release-planning' }).waitFor();
  await live(c);

  const token = await tokenOf('carol');
  const rooms = await call('GET', '/users/me/rooms', token);
  const roomId = rooms.find((r) => r.name === 'release-planning').id;
  const target = await call('POST', `/rooms/${roomId}/messages`, token, { content: TARGET });
  for (let n = 1; n <= LATER_MESSAGES; n += 10) {
    const batch = Array.from({ length: 10 }, (_, i) => call('POST', `/rooms/${roomId}/messages`, token, { content: `later message ${n + i}` }));
    await Promise.all(batch);
  }
  await searchable(token, 'release');
  people.carol.targetSeq = target.seq;

  // Away from the room, with a fresh page: only the newest history will load there.
  await c.goto('/');
  await searchBox(c).fill('release notes');
  await searchBox(c).press('Enter');
  const hit = results(c).getByRole('button').first();
  await hit.waitFor();
  assert.equal(await hit.locator('.search-snippet').innerText(), TARGET, 'the snippet is the text as typed');
  assert.deepEqual(await hit.locator('mark').allInnerTexts(), ['release', 'notes']);
  assert.equal(await hit.locator('b').count(), 0, 'no markup from the message');
  assert.match(await hit.innerText(), /carol in release-planning/);
  await shot(c, 'results');

  await hit.click();
  await c.getByRole('heading', { name: 'release-planning' }).waitFor();
  const focused = c.locator('li.msg[data-focused]');
  await focused.waitFor();
  assert.equal(await focused.getAttribute('data-seq'), String(target.seq));
  assert.equal(await focused.locator('.bubble').innerText(), TARGET);
  assert.ok(await focused.isVisible());
  const box = await focused.boundingBox();
  const scroller = await c.locator('.scroller').boundingBox();
  assert.ok(box && scroller && box.y >= scroller.y && box.y + box.height <= scroller.y + scroller.height, 'scrolled into view');
  await shot(c, 'opened-at-the-message');
});

story('what carol may not read is never found; clearing the search brings the rooms back', async () => {
  const c = people.carol.page;
  const dave = await (async () => {
    await call('POST', '/auth/register', null, { username: 'dave', password: PASSWORD });
    return tokenOf('dave');
  })();
  const secret = await call('POST', '/rooms/', dave, { name: 'dave-private', is_private: true, password: 'sesame' });
  await call('POST', `/rooms/${secret.id}/messages`, dave, { content: 'the zucchini plan' });
  await searchable(dave, 'zucchini');

  await searchBox(c).fill('zucchini');
  await searchBox(c).press('Enter');
  await c.getByText('No message matches.').waitFor();
  assert.equal(await results(c).getByRole('button').count(), 0);

  await c.getByRole('button', { name: 'Clear', exact: true }).click();
  await room(c, 'release-planning').waitFor();
  assert.equal(await searchBox(c).inputValue(), '');
});
