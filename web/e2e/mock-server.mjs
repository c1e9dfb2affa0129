// A small in-memory stand-in for the chat server's HTTP API and WebSocket v2
// dialect, for driving the web client in a browser before (or without) the
// Rust server. It follows DESIGN.md §7–8 as far as the client relies on them.
// It also serves web/dist with the single-page fallback, like `chat all`.
//
//   node e2e/mock-server.mjs [port]        (default 8000; PORT env also works)
//
// Test hooks (not part of the real API):
//   POST /__test__/drop-sockets   closes every socket with 1012 (clients must resume)
//   POST /__test__/post           {room_id, username, content} posts as another user
//   POST /__test__/reset          forgets everything

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const PORT = Number(process.argv[2] || process.env.PORT || 8000);

let users, rooms, sockets;
function reset() {
  users = new Map(); // username -> {id, username, password, created_at}
  rooms = new Map(); // id -> {id,name,is_private,password,created_by,created_at,members:Set,events:[]}
  sockets = new Set(); // {ws, roomId, user}
}
reset();

const b64url = (s) => Buffer.from(s).toString('base64url');
function makeToken(u) {
  const exp = Math.floor(Date.now() / 1000) + 12 * 3600;
  return `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify({ sub: u.username, uid: u.id, exp }))}.mock`;
}
function userFromToken(t) {
  try {
    const p = JSON.parse(Buffer.from(String(t).split('.')[1], 'base64url').toString());
    const u = users.get(p.sub);
    return u && u.id === p.uid && p.exp > Date.now() / 1000 ? u : null;
  } catch {
    return null;
  }
}

const err = (res, status, detail, code, headers = {}) => send(res, status, { detail, code }, headers);
function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const raw = Buffer.concat(chunks).toString();
  const ct = req.headers['content-type'] || '';
  if (ct.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}
function authUser(req) {
  const h = req.headers.authorization || '';
  return h.startsWith('Bearer ') ? userFromToken(h.slice(7)) : null;
}
const lastSeq = (r) => (r.events.length ? r.events[r.events.length - 1].seq : 0);
function roomView(r, u) {
  return {
    id: r.id,
    name: r.name,
    is_private: r.is_private,
    created_by: r.created_by,
    created_at: r.created_at,
    member_count: r.members.size,
    last_seq: lastSeq(r),
    is_member: u ? r.members.has(u.id) : false,
  };
}
function append(r, ev) {
  const e = { ...ev, seq: lastSeq(r) + 1, room_id: r.id, created_at: new Date().toISOString() };
  r.events.push(e);
  for (const s of sockets) if (s.roomId === r.id) s.ws.send(JSON.stringify(e));
  return e;
}
// As the server does: the whole list to a socket that opens, then who arrived (a user's first
// socket) or left (a user's last) to the others. The server batches these; one at a time here.
function presence(roomId, conn, event) {
  const seen = new Map();
  for (const s of sockets) if (s.roomId === roomId) seen.set(s.user.id, { user_id: s.user.id, username: s.user.username });
  if (event === 'joined') conn.ws.send(JSON.stringify({ type: 'presence', users: [...seen.values()] }));
  const stillThere = [...sockets].some((s) => s !== conn && s.roomId === roomId && s.user.id === conn.user.id);
  if (stillThere) return;
  const who = [{ user_id: conn.user.id, username: conn.user.username }];
  const frame = JSON.stringify({ type: 'presence_changed', joined: event === 'joined' ? who : [], left: event === 'left' ? who : [] });
  for (const s of sockets) if (s.roomId === roomId && s !== conn) s.ws.send(frame);
}
function postMessage(r, u, content, client_msg_id = null) {
  return append(r, { type: 'message', id: randomUUID(), user_id: u.id, username: u.username, content, client_msg_id });
}

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.svg': 'image/svg+xml' };
async function serveStatic(req, res, path) {
  let file = normalize(join(DIST, decodeURIComponent(path)));
  if (!file.startsWith(DIST)) file = join(DIST, 'index.html');
  try {
    if (!(await stat(file)).isFile()) throw new Error();
  } catch {
    file = join(DIST, 'index.html');
  }
  try {
    const data = await readFile(file);
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] || 'application/octet-stream' });
    res.end(data);
  } catch {
    res.writeHead(404).end('web/dist is not built');
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  const m = req.method;
  try {
    if (p === '/__test__/reset' && m === 'POST') {
      for (const s of sockets) s.ws.close(1001);
      reset();
      return send(res, 200, { ok: true });
    }
    if (p === '/__test__/drop-sockets' && m === 'POST') {
      const n = sockets.size;
      for (const s of [...sockets]) s.ws.close(1012, 'restart');
      return send(res, 200, { closed: n });
    }
    if (p === '/__test__/post' && m === 'POST') {
      const b = await body(req);
      const r = rooms.get(b.room_id);
      const u = users.get(b.username);
      if (!r || !u) return err(res, 404, 'Not found', 'not_found');
      return send(res, 200, postMessage(r, u, b.content));
    }
    if (p === '/auth/register' && m === 'POST') {
      const b = await body(req);
      if (!b || typeof b.username !== 'string' || typeof b.password !== 'string')
        return err(res, 422, 'username and password are required', 'validation_error');
      if (!/^[A-Za-z0-9_.-]{3,32}$/.test(b.username)) return err(res, 422, 'Invalid username', 'validation_error');
      const len = Buffer.byteLength(b.password);
      if (len < 8 || len > 72) return err(res, 422, 'Password must be 8 to 72 bytes', 'validation_error');
      if (users.has(b.username)) return err(res, 400, 'Username already registered', 'username_taken');
      const u = { id: randomUUID(), username: b.username, password: b.password, created_at: new Date().toISOString() };
      users.set(u.username, u);
      return send(res, 200, { id: u.id, username: u.username, created_at: u.created_at });
    }
    if (p === '/auth/login' && m === 'POST') {
      const b = (await body(req)) || {};
      const u = users.get(b.username);
      if (!u || u.password !== b.password)
        return err(res, 401, 'Incorrect username or password', 'invalid_credentials', { 'WWW-Authenticate': 'Bearer' });
      return send(res, 200, { access_token: makeToken(u), token_type: 'bearer' });
    }
    if (p === '/rooms/' && m === 'GET') {
      const u = authUser(req);
      return send(res, 200, [...rooms.values()].map((r) => roomView(r, u)));
    }
    if (p === '/users/me/rooms' && m === 'GET') {
      const u = authUser(req);
      if (!u) return err(res, 401, 'Not authenticated', 'unauthorized');
      return send(res, 200, [...rooms.values()].filter((r) => r.members.has(u.id)).map((r) => roomView(r, u)));
    }
    if (p === '/rooms/' && m === 'POST') {
      const u = authUser(req);
      if (!u) return err(res, 401, 'Not authenticated', 'unauthorized');
      const b = await body(req);
      if (!b || typeof b.name !== 'string' || !b.name.trim()) return err(res, 422, 'name is required', 'validation_error');
      if ([...rooms.values()].some((r) => r.name === b.name)) return err(res, 400, 'Room name already exists', 'room_name_taken');
      if (b.is_private && !b.password) return err(res, 400, 'Private rooms require a password', 'password_required');
      const r = {
        id: randomUUID(),
        name: b.name,
        is_private: !!b.is_private,
        password: b.password || null,
        created_by: u.id,
        created_at: new Date().toISOString(),
        members: new Set(),
        events: [],
      };
      rooms.set(r.id, r);
      r.members.add(u.id);
      append(r, { type: 'member_joined', user_id: u.id, username: u.username });
      const { password: _pw, members: _m, events: _e, ...view } = r;
      return send(res, 200, view);
    }
    let mm;
    if ((mm = /^\/rooms\/([^/]+)\/(join|leave|messages)$/.exec(p))) {
      const r = rooms.get(decodeURIComponent(mm[1]));
      const u = authUser(req);
      const action = mm[2];
      if (action !== 'messages' && !u) return err(res, 401, 'Not authenticated', 'unauthorized');
      if (!r) return err(res, 404, 'Room not found', 'room_not_found');
      if (action === 'join' && m === 'POST') {
        if (r.members.has(u.id)) return send(res, 200, { message: 'Already joined' });
        const b = (await body(req)) || {};
        if (r.is_private && b.password !== r.password) return err(res, 403, 'Invalid room password', 'invalid_room_password');
        r.members.add(u.id);
        append(r, { type: 'member_joined', user_id: u.id, username: u.username });
        return send(res, 200, { message: `Joined room ${r.name}` });
      }
      if (action === 'leave' && m === 'POST') {
        if (!r.members.has(u.id)) return err(res, 400, 'Not a member of this room', 'not_a_member');
        r.members.delete(u.id);
        append(r, { type: 'member_left', user_id: u.id, username: u.username });
        for (const s of [...sockets]) if (s.roomId === r.id && s.user.id === u.id) s.ws.close(4003, 'not a member');
        return send(res, 200, { message: `Left room ${r.name}` });
      }
      if (action === 'messages' && m === 'GET') {
        if (r.is_private && !(u && r.members.has(u.id))) return err(res, 403, 'Not a member of this room', 'forbidden');
        const limit = Math.min(Number(url.searchParams.get('limit') || 50), 200);
        const before = url.searchParams.get('before_seq');
        let msgs = r.events.filter((e) => e.type === 'message');
        if (before !== null) msgs = msgs.filter((e) => e.seq < Number(before));
        const page = msgs.slice(-limit).reverse().map(({ type: _t, ...rest }) => rest);
        if (page.length) res.setHeader('X-Next-Before-Seq', String(page[page.length - 1].seq));
        return send(res, 200, page);
      }
    }
    if (p.startsWith('/auth/') || p.startsWith('/rooms') || p.startsWith('/users/') || p.startsWith('/ws/'))
      return err(res, 404, 'Not found', 'not_found');
    return serveStatic(req, res, p === '/' ? '/index.html' : p);
  } catch (e) {
    console.error(e);
    return err(res, 500, 'Internal error', 'internal');
  }
});

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x');
  const mm = /^\/ws\/([^/]+)$/.exec(url.pathname);
  if (!mm) return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    const u = userFromToken(url.searchParams.get('token'));
    if (!u) return ws.close(4001, 'invalid token');
    const r = rooms.get(decodeURIComponent(mm[1]));
    if (!r) return ws.close(4004, 'no such room');
    if (!r.members.has(u.id)) return ws.close(4003, 'not a member');
    const conn = { ws, roomId: r.id, user: u };
    const since = url.searchParams.get('since');
    if (since !== null) for (const e of r.events) if (e.seq > Number(since)) ws.send(JSON.stringify(e));
    sockets.add(conn);
    presence(r.id, conn, 'joined');
    ws.on('message', (data) => {
      let f;
      try {
        f = JSON.parse(String(data));
      } catch {
        return ws.send(JSON.stringify({ type: 'error', code: 'bad_frame', detail: 'Frames must be JSON' }));
      }
      if (f.type === 'ping') return ws.send(JSON.stringify({ type: 'pong' }));
      if (f.type === 'typing') {
        const t = JSON.stringify({ type: 'typing', user_id: u.id, username: u.username });
        for (const s of sockets) if (s.roomId === r.id && s.ws !== ws) s.ws.send(t);
        return;
      }
      if (f.type === 'send') {
        const content = typeof f.content === 'string' ? f.content : '';
        if (!content.trim())
          return ws.send(JSON.stringify({ type: 'error', code: 'empty_message', detail: 'Message is empty', client_msg_id: f.client_msg_id }));
        if (content === '/fail')
          return ws.send(JSON.stringify({ type: 'error', code: 'rate_limited', detail: 'Slow down: too many messages' }));
        const e = postMessage(r, u, content, f.client_msg_id ?? null);
        ws.send(JSON.stringify({ type: 'ack', id: e.id, seq: e.seq, client_msg_id: e.client_msg_id }));
      }
    });
    ws.on('close', () => {
      sockets.delete(conn);
      presence(r.id, conn, 'left');
    });
  });
});

server.listen(PORT, '127.0.0.1', () => console.log(`mock chat server on http://127.0.0.1:${PORT}`));
