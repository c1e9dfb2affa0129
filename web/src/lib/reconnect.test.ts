import { describe, expect, it } from 'vitest';
import { backoffDelay, closeAction, closeMessage, connReducer, defaultBackoff, initialConnState, socketUrl, type ConnState } from './reconnect';

const opts = { baseMs: 500, maxMs: 8000, factor: 2, stableMs: 5000 };
const mid = () => 0.5;

describe('backoffDelay', () => {
  it('grows exponentially up to the cap', () => {
    const top = () => 1;
    expect([1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, opts, top))).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('jitters between half and all of the step', () => {
    expect(backoffDelay(3, opts, () => 0)).toBe(1000);
    expect(backoffDelay(3, opts, () => 1)).toBe(2000);
    expect(backoffDelay(3, opts, mid)).toBe(1500);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(4, opts);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });

  it('treats attempt 0 or less as the first', () => {
    expect(backoffDelay(0, opts, () => 1)).toBe(500);
  });
});

describe('closeAction', () => {
  it('stops on auth, membership and missing-room codes', () => {
    expect(closeAction(4001)).toEqual({ kind: 'stop', reason: 'unauthorized' });
    expect(closeAction(4003)).toEqual({ kind: 'stop', reason: 'forbidden' });
    expect(closeAction(4004)).toEqual({ kind: 'stop', reason: 'not_found' });
    expect(closeMessage(4001)).toMatch(/session has ended/);
  });

  it('stops when the server cannot read the request, since a retry would send the same', () => {
    expect(closeAction(4000)).toEqual({ kind: 'stop', reason: 'refused' });
    expect(closeMessage(4000)).toMatch(/refused/);
  });

  it('reconnects on everything else, including too-slow and too-big', () => {
    for (const c of [4008, 1009, 1000, 1001, 1006, 1011, 1012]) expect(closeAction(c)).toEqual({ kind: 'reconnect' });
    expect(closeMessage(4008)).toMatch(/catching up/);
    expect(closeMessage(1006)).toBeNull();
  });
});

describe('connReducer', () => {
  const step = (s: ConnState, ...events: Parameters<typeof connReducer>[1][]) =>
    events.reduce((acc, e) => connReducer(acc, e, mid, opts), s);

  it('opens, drops, backs off and resumes', () => {
    let s = initialConnState(10);
    expect(s.phase).toBe('connecting');
    s = step(s, { type: 'open', at: 0 }, { type: 'seq', seq: 11 }, { type: 'seq', seq: 12 });
    expect(s).toMatchObject({ phase: 'open', since: 12, attempt: 0 });
    s = step(s, { type: 'close', code: 1006, at: 1000 });
    expect(s).toMatchObject({ phase: 'reconnecting', attempt: 1, delayMs: 375, since: 12, lastClose: { code: 1006 } });
    s = step(s, { type: 'retry' });
    expect(s.phase).toBe('connecting');
    s = step(s, { type: 'close', code: 1006, at: 2000 });
    expect(s).toMatchObject({ phase: 'reconnecting', attempt: 2, delayMs: 750 });
    s = step(s, { type: 'retry' }, { type: 'close', code: 1006, at: 3000 });
    expect(s).toMatchObject({ attempt: 3, delayMs: 1500 });
  });

  it('does not reset the backoff for a connection that dropped right after opening', () => {
    let s = step(initialConnState(null), { type: 'open', at: 0 }, { type: 'close', code: 1011, at: 100 });
    s = step(s, { type: 'retry' }, { type: 'open', at: 1000 }, { type: 'close', code: 1011, at: 1200 });
    expect(s.attempt).toBe(2);
  });

  it('resets the backoff once a connection was stable', () => {
    let s = step(initialConnState(null), { type: 'open', at: 0 }, { type: 'close', code: 1006, at: 100 });
    s = step(s, { type: 'retry' }, { type: 'close', code: 1006, at: 200 });
    expect(s.attempt).toBe(2);
    s = step(s, { type: 'retry' }, { type: 'open', at: 1000 }, { type: 'close', code: 4008, at: 60_000 });
    expect(s).toMatchObject({ phase: 'reconnecting', attempt: 1 });
  });

  it('keeps the cursor monotonic', () => {
    const s = step(initialConnState(5), { type: 'seq', seq: 3 }, { type: 'seq', seq: 9 }, { type: 'seq', seq: 7 });
    expect(s.since).toBe(9);
    expect(step(initialConnState(null), { type: 'seq', seq: 0 }).since).toBe(0);
  });

  it('stops for good on 4001/4003/4004 and on a client stop', () => {
    for (const [code, reason] of [
      [4001, 'unauthorized'],
      [4003, 'forbidden'],
      [4004, 'not_found'],
    ] as const) {
      const s = step(initialConnState(1), { type: 'open', at: 0 }, { type: 'close', code, at: 1 });
      expect(s).toMatchObject({ phase: 'stopped', stopReason: reason });
      // Nothing restarts it.
      expect(step(s, { type: 'retry' }, { type: 'nudge' }, { type: 'open', at: 5 }).phase).toBe('stopped');
    }
    const s = step(initialConnState(1), { type: 'open', at: 0 }, { type: 'stop' });
    expect(s).toMatchObject({ phase: 'stopped', stopReason: 'closed' });
    expect(step(s, { type: 'close', code: 1006, at: 9 }).phase).toBe('stopped');
  });

  it('nudge skips the wait only while reconnecting', () => {
    const open = step(initialConnState(1), { type: 'open', at: 0 });
    expect(step(open, { type: 'nudge' })).toBe(open);
    const waiting = step(open, { type: 'close', code: 1006, at: 1 });
    expect(step(waiting, { type: 'nudge' }).phase).toBe('connecting');
  });

  it('uses sensible defaults', () => {
    expect(defaultBackoff.baseMs).toBeGreaterThan(0);
    expect(defaultBackoff.maxMs).toBeGreaterThanOrEqual(defaultBackoff.baseMs);
  });
});

describe('socketUrl', () => {
  it('builds ws:// or wss:// on the page origin with the ticket, v=2 and since', () => {
    expect(socketUrl({ protocol: 'http:', host: 'localhost:5173' }, 'abc', 'tick+et/=', 42)).toBe(
      'ws://localhost:5173/ws/abc?ticket=tick%2Bet%2F%3D&v=2&since=42',
    );
    expect(socketUrl({ protocol: 'https:', host: 'chat.example' }, 'a b', 'x', null)).toBe('wss://chat.example/ws/a%20b?ticket=x&v=2');
    expect(socketUrl({ protocol: 'http:', host: 'h' }, 'r', 'x', 0)).toContain('since=0');
  });
});
