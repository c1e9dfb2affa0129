import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApi, detailText, errorFromResponse, errorMessage, isNotFound, normalizeMessage, normalizeRoom } from './api';

type Call = { url: string; init: RequestInit };

function fakeFetch(responses: Array<Response | Error>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const r = responses.shift();
    if (!r) throw new Error('no more responses');
    if (r instanceof Error) throw r;
    return r;
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

describe('errorFromResponse', () => {
  it('carries status, detail and code from the JSON error body', async () => {
    const e = await errorFromResponse(json({ detail: 'Room name already exists', code: 'room_name_taken' }, 400));
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.detail).toBe('Room name already exists');
    expect(e.message).toBe('Room name already exists');
    expect(e.code).toBe('room_name_taken');
  });

  it('adds Retry-After to a 429', async () => {
    const e = await errorFromResponse(json({ detail: 'Too many requests', code: 'rate_limited' }, 429, { 'Retry-After': '7' }));
    expect(e.retryAfter).toBe(7);
    expect(e.detail).toBe('Too many requests (try again in 7 s)');
  });

  it('falls back to a readable text for non-JSON and empty bodies', async () => {
    expect((await errorFromResponse(new Response('Bad Gateway', { status: 502 }))).detail).toBe('Bad Gateway');
    expect((await errorFromResponse(new Response('<html>oops</html>', { status: 502 }))).detail).toMatch(/bad gateway/i);
    expect((await errorFromResponse(new Response('', { status: 404 }))).detail).toBe('Not found');
    expect((await errorFromResponse(new Response('', { status: 418 }))).detail).toBe('Request failed (HTTP 418)');
  });
});

describe('detailText', () => {
  it('flattens validation lists', () => {
    expect(
      detailText([
        { loc: ['body', 'password'], msg: 'too short' },
        { loc: ['body', 'username'], msg: 'bad chars' },
      ]),
    ).toBe('password: too short; username: bad chars');
    expect(detailText('  ')).toBeNull();
    expect(detailText({ message: 'x' })).toBe('x');
    expect(detailText(42)).toBeNull();
  });
});

describe('errorMessage', () => {
  it('prefers the API detail', () => {
    expect(errorMessage(new ApiError(403, 'Invalid room password'))).toBe('Invalid room password');
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('???')).toBe('Something went wrong');
  });
});

describe('isNotFound', () => {
  it('reads a 404, and a malformed id in the path, as a missing room', () => {
    expect(isNotFound(new ApiError(404, 'Room not found', 'room_not_found'))).toBe(true);
    expect(isNotFound(new ApiError(422, 'Invalid URL', 'invalid_path'))).toBe(true);
    expect(isNotFound(new ApiError(422, 'limit must be a number', 'invalid_query'))).toBe(false);
    expect(isNotFound(new ApiError(403, 'Not a member', 'not_a_member'))).toBe(false);
    expect(isNotFound(new Error('x'))).toBe(false);
  });
});

describe('normalizeRoom', () => {
  it('keeps known fields and marks missing ones as unknown', () => {
    expect(normalizeRoom({ id: 'r1', name: 'general', is_private: false, created_by: 'u1' })).toEqual({
      id: 'r1',
      name: 'general',
      is_private: false,
      kind: 'room',
      created_by: 'u1',
      created_at: null,
      member_count: null,
      last_seq: null,
      is_member: null,
    });
  });
  it('accepts numeric ids (the seed used integers) and rejects junk', () => {
    expect(normalizeRoom({ id: 3, name: 'x', is_member: true, member_count: 2 })?.id).toBe('3');
    expect(normalizeRoom({ id: 3, name: 'x', is_member: true, member_count: 2 })?.is_member).toBe(true);
    expect(normalizeRoom({ id: 'd', name: 'bob', kind: 'direct' })?.kind).toBe('direct');
    expect(normalizeRoom({ id: 'd', name: 'x', kind: 'mystery' })?.kind).toBe('room');
    expect(normalizeRoom({ name: 'x' })).toBeNull();
    expect(normalizeRoom(null)).toBeNull();
  });
});

describe('normalizeMessage', () => {
  it('fills room id and defaults', () => {
    const m = normalizeMessage({ id: 'm1', seq: 5, content: 'hi', user_id: 'u', username: 'al', created_at: 't' }, 'r');
    expect(m).toMatchObject({ id: 'm1', seq: 5, room_id: 'r', client_msg_id: null });
    expect(normalizeMessage({ seq: 9, content: 'x' })?.id).toBe('seq-9');
    expect(normalizeMessage({ content: 'x' })).toBeNull();
  });
});

describe('createApi', () => {
  it('logs in with a form body and returns the token', async () => {
    const f = fakeFetch([json({ access_token: 'tok', token_type: 'bearer' })]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'old' });
    expect(await api.login('alice', 'pw d&x')).toBe('tok');
    const c = f.calls[0]!;
    expect(c.url).toBe('/auth/login');
    expect(c.init.method).toBe('POST');
    const h = c.init.headers as Record<string, string>;
    expect(h['Content-Type']).toBe('application/x-www-form-urlencoded');
    expect(h.Authorization).toBeUndefined();
    expect(new URLSearchParams(c.init.body as string).get('password')).toBe('pw d&x');
  });

  it('registers with JSON', async () => {
    const f = fakeFetch([json({ id: 'u1', username: 'alice', created_at: 'now' })]);
    const api = createApi({ fetch: f.fetch });
    expect((await api.register('alice', 'password1')).username).toBe('alice');
    expect(JSON.parse(f.calls[0]!.init.body as string)).toEqual({ username: 'alice', password: 'password1' });
  });

  it('sends the bearer token and throws ApiError with the detail', async () => {
    const f = fakeFetch([json({ detail: 'Invalid room password', code: 'forbidden' }, 403)]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T' });
    await expect(api.joinRoom('r 1', 'nope')).rejects.toMatchObject({ status: 403, detail: 'Invalid room password' });
    expect(f.calls[0]!.url).toBe('/rooms/r%201/join');
    expect((f.calls[0]!.init.headers as Record<string, string>).Authorization).toBe('Bearer T');
    expect(JSON.parse(f.calls[0]!.init.body as string)).toEqual({ password: 'nope' });
  });

  it('calls onUnauthorized on a 401 to a request that carried a token, not on a bad login', async () => {
    const onUnauthorized = vi.fn();
    const f = fakeFetch([
      json({ detail: 'Not authenticated' }, 401),
      json({ detail: 'Incorrect username or password' }, 401),
    ]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T', onUnauthorized });
    await expect(api.myRooms()).rejects.toBeInstanceOf(ApiError);
    expect(onUnauthorized).toHaveBeenCalledWith('T');
    await expect(api.login('a', 'b')).rejects.toMatchObject({ detail: 'Incorrect username or password' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('turns a network failure into a readable ApiError', async () => {
    const f = fakeFetch([new TypeError('Failed to fetch')]);
    const api = createApi({ fetch: f.fetch });
    await expect(api.listRooms()).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('lists rooms defensively', async () => {
    const f = fakeFetch([json([{ id: 'a', name: 'A' }, { bogus: true }, { id: 'b', name: 'B', is_private: true }])]);
    const rooms = await createApi({ fetch: f.fetch }).listRooms();
    expect(rooms.map((r) => r.name)).toEqual(['A', 'B']);
    expect(rooms[1]!.is_private).toBe(true);
    expect(f.calls[0]!.url).toBe('/rooms/');
  });

  it('rejects a wrapped array where a bare one is expected', async () => {
    const f = fakeFetch([json({ items: [] })]);
    await expect(createApi({ fetch: f.fetch }).listRooms()).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('pages history with before_seq and returns it oldest first', async () => {
    const f = fakeFetch([
      json([
        { id: 'c', seq: 12, content: '3' },
        { id: 'b', seq: 11, content: '2' },
        { id: 'a', seq: 10, content: '1' },
      ]),
    ]);
    const msgs = await createApi({ fetch: f.fetch }).messages('room', { limit: 3, beforeSeq: 13 });
    expect(msgs.map((m) => m.seq)).toEqual([10, 11, 12]);
    const u = new URL(f.calls[0]!.url, 'http://x');
    expect(u.pathname).toBe('/rooms/room/messages');
    expect(u.searchParams.get('limit')).toBe('3');
    expect(u.searchParams.get('before_seq')).toBe('13');
  });

  it('omits the password when creating a public room', async () => {
    const f = fakeFetch([json({ id: 'r', name: 'n', is_private: false })]);
    await createApi({ fetch: f.fetch, getToken: () => 'T' }).createRoom('n', false);
    expect(JSON.parse(f.calls[0]!.init.body as string)).toEqual({ name: 'n', is_private: false });
  });

  it('logs out here or everywhere with the bearer token and an empty body', async () => {
    const f = fakeFetch([new Response(null, { status: 204 }), new Response(null, { status: 204 })]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T' });
    expect(await api.logout()).toBe(true);
    expect(await api.logoutEverywhere()).toBe(true);
    expect(f.calls.map((c) => [c.init.method, c.url])).toEqual([
      ['POST', '/auth/logout'],
      ['POST', '/auth/logout-all'],
    ]);
    for (const c of f.calls) {
      expect((c.init.headers as Record<string, string>).Authorization).toBe('Bearer T');
      expect(c.init.body).toBeUndefined();
    }
  });

  it('a log out answered 401 says the token had already ended, without reporting a lost session', async () => {
    const onUnauthorized = vi.fn();
    const f = fakeFetch([
      json({ detail: 'The access token was revoked', code: 'token_revoked' }, 401),
      json({ detail: 'The access token has expired', code: 'token_expired' }, 401),
    ]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T', onUnauthorized });
    expect(await api.logout()).toBe(false);
    expect(await api.logoutEverywhere()).toBe(false);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('a log out that does not reach the server, or fails there, is an error', async () => {
    const f = fakeFetch([new TypeError('Failed to fetch'), json({ detail: 'The server had an internal error' }, 500)]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T' });
    await expect(api.logout()).rejects.toMatchObject({ status: 0, code: 'network_error' });
    await expect(api.logoutEverywhere()).rejects.toMatchObject({ status: 500 });
  });

  it('changes the password with JSON and answers the fresh token', async () => {
    const f = fakeFetch([json({ access_token: 'fresh', token_type: 'bearer' })]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T' });
    expect(await api.changePassword('old secret', 'new “secret” ü')).toBe('fresh');
    const c = f.calls[0]!;
    expect([c.init.method, c.url]).toEqual(['POST', '/users/me/password']);
    expect((c.init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect((c.init.headers as Record<string, string>).Authorization).toBe('Bearer T');
    expect(JSON.parse(c.init.body as string)).toEqual({ current_password: 'old secret', new_password: 'new “secret” ü' });
  });

  it('a refused password change carries the server’s detail and code', async () => {
    const onUnauthorized = vi.fn();
    const f = fakeFetch([
      json({ detail: 'Incorrect current password', code: 'invalid_current_password' }, 403),
      json({ detail: 'password must be at least 8 characters long', code: 'invalid_input' }, 422),
      json({ token_type: 'bearer' }),
    ]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T', onUnauthorized });
    await expect(api.changePassword('wrong', 'long enough')).rejects.toMatchObject({
      status: 403,
      code: 'invalid_current_password',
      detail: 'Incorrect current password',
    });
    await expect(api.changePassword('right', 'short')).rejects.toMatchObject({
      status: 422,
      detail: 'password must be at least 8 characters long',
    });
    await expect(api.changePassword('right', 'long enough')).rejects.toMatchObject({ code: 'bad_response' });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('asks for a socket ticket with the bearer token', async () => {
    const f = fakeFetch([json({ ticket: 'tk', expires_in: 30 }), json({ expires_in: 30 }), json({ detail: 'revoked' }, 401)]);
    const onUnauthorized = vi.fn();
    const api = createApi({ fetch: f.fetch, getToken: () => 'T', onUnauthorized });
    expect(await api.socketTicket()).toBe('tk');
    expect([f.calls[0]!.init.method, f.calls[0]!.url]).toEqual(['POST', '/auth/ws-ticket']);
    expect((f.calls[0]!.init.headers as Record<string, string>).Authorization).toBe('Bearer T');
    await expect(api.socketTicket()).rejects.toMatchObject({ code: 'bad_response' });
    await expect(api.socketTicket()).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledWith('T');
  });
});

describe('message calls', () => {
  const room = 'room-1';
  const base = `/rooms/${room}/messages/m1`;
  const answer = { id: 'm1', seq: 4, room_id: room, user_id: 'u', username: 'al', content: 'new', client_msg_id: null, created_at: 't', edited_at: 't2' };

  it('edits with PATCH and answers the message as edited', async () => {
    const f = fakeFetch([json(answer)]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T' });
    expect(await api.editMessage(room, 'm1', 'new')).toMatchObject({ content: 'new', edited_at: 't2', deleted: false });
    expect(f.calls[0]!.url).toBe(base);
    expect(f.calls[0]!.init.method).toBe('PATCH');
    expect(JSON.parse(f.calls[0]!.init.body as string)).toEqual({ content: 'new' });
  });

  it('deletes with DELETE, and a refusal carries the server’s words', async () => {
    const f = fakeFetch([new Response(null, { status: 204 }), json({ detail: 'Only its author can do that', code: 'forbidden' }, 403)]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T' });
    await api.deleteMessage(room, 'm1');
    expect(f.calls[0]!.init.method).toBe('DELETE');
    await expect(api.deleteMessage(room, 'm1')).rejects.toMatchObject({ status: 403, detail: 'Only its author can do that' });
  });

  it('reacts with PUT and takes back with DELETE on the URL-encoded emoji', async () => {
    const f = fakeFetch([new Response(null, { status: 204 }), new Response(null, { status: 204 })]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T' });
    await api.react(room, 'm1', '❤️', true);
    await api.react(room, 'm1', '👍🏽', false);
    expect(f.calls.map((c) => [c.init.method, c.url])).toEqual([
      ['PUT', `${base}/reactions/%E2%9D%A4%EF%B8%8F`],
      ['DELETE', `${base}/reactions/${encodeURIComponent('👍🏽')}`],
    ]);
  });

  it('posts a reply with reply_to and reads a thread page after a seq', async () => {
    const f = fakeFetch([json({ ...answer, reply_to: 'm0' }, 201), json([answer, { nonsense: true }])]);
    const api = createApi({ fetch: f.fetch, getToken: () => 'T' });
    expect((await api.postMessage(room, 'hi', { replyTo: 'm0', clientMsgId: 'c1' })).reply_to).toBe('m0');
    expect(JSON.parse(f.calls[0]!.init.body as string)).toEqual({ content: 'hi', reply_to: 'm0', client_msg_id: 'c1' });
    expect(await api.replies(room, 'm0', { limit: 10, afterSeq: 7 })).toHaveLength(1);
    expect(f.calls[1]!.url).toBe(`/rooms/${room}/messages/m0/replies?limit=10&after_seq=7`);
  });
});
