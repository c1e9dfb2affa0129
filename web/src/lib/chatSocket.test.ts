import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { ChatSocket, type Clock, type SocketLike } from './chatSocket';
import type { ServerFrame } from './protocol';
import type { ConnState } from './reconnect';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(public url: string) {}
  send(d: string) {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(d);
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  // test helpers
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(o: object) {
    this.onmessage?.({ data: JSON.stringify(o) });
  }
  drop(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

class FakeClock implements Clock {
  t = 0;
  private id = 0;
  private timers = new Map<number, { at: number; fn: () => void; every: number | null }>();
  setTimeout(fn: () => void, ms: number) {
    this.timers.set(++this.id, { at: this.t + ms, fn, every: null });
    return this.id;
  }
  clearTimeout(id: unknown) {
    this.timers.delete(id as number);
  }
  setInterval(fn: () => void, ms: number) {
    this.timers.set(++this.id, { at: this.t + ms, fn, every: ms });
    return this.id;
  }
  clearInterval(id: unknown) {
    this.timers.delete(id as number);
  }
  now() {
    return this.t;
  }
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; every: number | null }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      const [id, tm] = next;
      this.t = tm.at;
      if (tm.every !== null) tm.at += tm.every;
      else this.timers.delete(id);
      tm.fn();
    }
    this.t = end;
  }
  pending() {
    return this.timers.size;
  }
}

/** Lets the ticket requests under way answer. */
const settle = () => new Promise((r) => setImmediate(r));

function setup(since: number | null = 5, ticket?: () => Promise<string>) {
  const sockets: FakeSocket[] = [];
  let tickets = 0;
  const frames: ServerFrame[] = [];
  const states: ConnState[] = [];
  const clock = new FakeClock();
  const cs = new ChatSocket({
    roomId: 'room-1',
    ticket: ticket ?? (async () => `ticket-${++tickets}`),
    since,
    onFrame: (f) => frames.push(f),
    onState: (s) => states.push(s),
    location: { protocol: 'http:', host: 'localhost:8000' },
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    clock,
    random: () => 1,
    backoff: { baseMs: 1000, maxMs: 8000, factor: 2, stableMs: 5000 },
    pingIntervalMs: 10_000,
    idleTimeoutMs: 30_000,
  });
  const last = () => sockets[sockets.length - 1]!;
  return { cs, sockets, frames, states, clock, last };
}

const message = (seq: number, extra: object = {}) => ({
  type: 'message',
  id: `m${seq}`,
  seq,
  room_id: 'room-1',
  user_id: 'u',
  username: 'bob',
  content: `hi ${seq}`,
  client_msg_id: null,
  created_at: '2025-01-01T00:00:00Z',
  ...extra,
});

describe('ChatSocket', () => {
  it('connects with v=2 and the since cursor, and delivers parsed frames', async () => {
    const { cs, sockets, frames, last } = setup(5);
    cs.start();
    await settle();
    expect(sockets).toHaveLength(1);
    expect(last().url).toBe('ws://localhost:8000/ws/room-1?ticket=ticket-1&v=2&since=5');
    last().open();
    expect(cs.isOpen()).toBe(true);
    last().frame(message(6));
    last().frame({ type: 'presence', users: [{ user_id: 'u', username: 'bob' }] });
    last().onmessage?.({ data: 'not json' });
    expect(frames.map((f) => f.type)).toEqual(['message', 'presence']);
    expect(cs.since).toBe(6);
  });

  it('sends only while open', async () => {
    const { cs, last } = setup();
    cs.start();
    await settle();
    expect(cs.send('x')).toBe(false);
    last().open();
    expect(cs.send('{"type":"typing"}')).toBe(true);
    expect(last().sent).toEqual(['{"type":"typing"}']);
  });

  it('reconnects with backoff and resumes after the last seq seen', async () => {
    const { cs, sockets, states, clock, last } = setup(5);
    cs.start();
    await settle();
    last().open();
    last().frame(message(6));
    last().frame({ type: 'member_joined', seq: 7, user_id: 'u2', username: 'carol' });
    last().drop(1006);
    expect(states[states.length - 1]).toMatchObject({ phase: 'reconnecting', attempt: 1, delayMs: 1000 });
    clock.advance(999);
    expect(sockets).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(sockets).toHaveLength(2);
    expect(last().url).toBe('ws://localhost:8000/ws/room-1?ticket=ticket-2&v=2&since=7');
    // Fails again before opening: the wait doubles.
    last().drop(1006);
    expect(states[states.length - 1]).toMatchObject({ attempt: 2, delayMs: 2000 });
    clock.advance(2000);
    await settle();
    expect(sockets).toHaveLength(3);
    last().open();
    expect(states[states.length - 1]!.phase).toBe('open');
  });

  it('resumes after 4008 (too slow)', async () => {
    const { cs, sockets, clock, last } = setup(1);
    cs.start();
    await settle();
    last().open();
    last().frame(message(2));
    last().drop(4008, 'too slow');
    clock.advance(1000);
    await settle();
    expect(sockets).toHaveLength(2);
    expect(last().url).toContain('since=2');
  });

  it('stops on 4001, 4003 and 4004 without reconnecting', async () => {
    for (const code of [4001, 4003, 4004]) {
      const { cs, sockets, states, clock, last } = setup();
      cs.start();
    await settle();
      last().open();
      last().drop(code);
      clock.advance(60_000);
      expect(sockets).toHaveLength(1);
      expect(states[states.length - 1]!.phase).toBe('stopped');
      expect(clock.pending()).toBe(0);
    }
  });

  it('stop() closes the socket, cancels timers and never reconnects', async () => {
    const { cs, sockets, clock, last } = setup();
    cs.start();
    await settle();
    last().open();
    const s = last();
    cs.stop();
    expect(s.closedWith).toBe(1000);
    expect(clock.pending()).toBe(0);
    s.drop(1000); // a late close event is ignored
    clock.advance(60_000);
    expect(sockets).toHaveLength(1);
    expect(cs.current.phase).toBe('stopped');
  });

  it('stop() during the backoff wait cancels the retry', async () => {
    const { cs, sockets, clock, last } = setup();
    cs.start();
    await settle();
    last().drop(1006);
    cs.stop();
    clock.advance(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('nudge() reconnects at once while waiting', async () => {
    const { cs, sockets, last } = setup();
    cs.start();
    await settle();
    last().open();
    last().drop(1006);
    cs.nudge();
    cs.nudge(); // already connecting: no second socket
    await settle();
    expect(sockets).toHaveLength(2);
  });

  it('pings, and treats a silent connection as dead', async () => {
    const { cs, sockets, clock, last } = setup();
    cs.start();
    await settle();
    const s = last();
    s.open();
    clock.advance(10_000);
    expect(s.sent).toEqual(['{"type":"ping"}']);
    s.frame({ type: 'pong' });
    clock.advance(20_000);
    expect(s.sent.length).toBe(3);
    expect(sockets).toHaveLength(1);
    // No frames for 30 s (at t=40 s): give up on it, wait out the backoff, reconnect.
    clock.advance(10_000);
    expect(s.closedWith).toBe(4000);
    expect(cs.current).toMatchObject({ phase: 'reconnecting', lastClose: { code: 1006 } });
    expect(sockets).toHaveLength(1);
    clock.advance(1000);
    await settle();
    expect(sockets).toHaveLength(2);
  });

  it('noteSeq moves the cursor used by the next connection', async () => {
    const { cs, clock, last } = setup(null);
    cs.start();
    await settle();
    expect(last().url).not.toContain('since=');
    cs.noteSeq(40);
    last().drop(1006);
    clock.advance(1000);
    await settle();
    expect(last().url).toContain('since=40');
  });

  it('a ticket refused with 401 ends the session like a 4001 close, without opening a socket', async () => {
    const { cs, sockets, states, clock } = setup(5, async () => {
      throw new ApiError(401, 'The access token was revoked', 'token_revoked');
    });
    cs.start();
    await settle();
    expect(sockets).toHaveLength(0);
    expect(states[states.length - 1]).toMatchObject({ phase: 'stopped', stopReason: 'unauthorized', lastClose: { code: 4001 } });
    expect(clock.pending()).toBe(0);
  });

  it('a ticket that cannot be had (server down) is retried after the back-off, each time a new one', async () => {
    const asked: number[] = [];
    let fail = true;
    const { cs, sockets, states, clock, last } = setup(5, async () => {
      asked.push(clock.now());
      if (fail) throw new ApiError(0, 'Cannot reach the server.', 'network_error');
      return `t${asked.length}`;
    });
    cs.start();
    await settle();
    expect(sockets).toHaveLength(0);
    expect(states[states.length - 1]).toMatchObject({ phase: 'reconnecting', attempt: 1, delayMs: 1000 });
    clock.advance(1000);
    await settle();
    expect(states[states.length - 1]).toMatchObject({ phase: 'reconnecting', attempt: 2, delayMs: 2000 });
    fail = false;
    clock.advance(2000);
    await settle();
    expect(asked).toEqual([0, 1000, 3000]);
    expect(sockets).toHaveLength(1);
    expect(last().url).toContain('ticket=t3&');
  });

  it('stop() while a ticket is on its way opens nothing when it arrives', async () => {
    let answer: (t: string) => void = () => {};
    let asks = 0;
    const { cs, sockets } = setup(5, () => {
      asks++;
      return new Promise<string>((r) => (answer = r));
    });
    cs.start();
    cs.start(); // already asking: no second request
    expect(asks).toBe(1);
    cs.stop();
    answer('late');
    await settle();
    expect(sockets).toHaveLength(0);
    expect(cs.current.phase).toBe('stopped');
  });
});
