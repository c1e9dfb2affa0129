import { describe, expect, it } from 'vitest';
import type { Message } from './api';
import {
  emptyTimeline,
  mergeItems,
  newClientMsgId,
  newestSeq,
  oldestSeq,
  queued,
  sameGroup,
  timelineReducer,
  toMessageItem,
  type MemberItem,
  type PendingMessage,
  type Timeline,
  type TimelineAction,
} from './messages';

const me = { user_id: 'u-me', username: 'me' };

function msg(seq: number, extra: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    seq,
    room_id: 'r',
    user_id: 'u-other',
    username: 'other',
    content: `message ${seq}`,
    client_msg_id: null,
    is_bot: false,
    created_at: new Date(Date.UTC(2025, 0, 1, 12, 0, seq)).toISOString(),
    edited_at: null,
    deleted: false,
    reactions: [],
    reply_to: null,
    reply_count: 0,
    mentions: [],
    ...extra,
  };
}

function pending(id: string, status: PendingMessage['status'] = 'queued'): PendingMessage {
  return { client_msg_id: id, content: `text ${id}`, created_at: new Date().toISOString(), status, error: null };
}

function run(actions: TimelineAction[], start: Timeline = emptyTimeline()): Timeline {
  return actions.reduce(timelineReducer, start);
}

const seqs = (t: Timeline) => t.items.map((i) => i.seq);

describe('mergeItems', () => {
  it('sorts by seq and drops duplicates', () => {
    const a = [3, 1, 2].map((s) => toMessageItem(msg(s)));
    const merged = mergeItems([], a);
    expect(merged.map((i) => i.seq)).toEqual([1, 2, 3]);
    const again = mergeItems(merged, [toMessageItem(msg(2)), toMessageItem(msg(4))]);
    expect(again.map((i) => i.seq)).toEqual([1, 2, 3, 4]);
  });

  it('returns the same array when nothing is new', () => {
    const items = mergeItems([], [toMessageItem(msg(1))]);
    expect(mergeItems(items, [toMessageItem(msg(1))])).toBe(items);
    expect(mergeItems(items, [])).toBe(items);
  });

  it("lets the server's copy replace a local one with the same seq", () => {
    const local = { ...toMessageItem(msg(5)), id: 'local-x', content: 'hello' };
    const server = { ...toMessageItem(msg(5)), id: 'srv-5', content: 'hello' };
    const out = mergeItems([local], [server]);
    expect(out).toHaveLength(1);
    expect(out[0]!.id).toBe('srv-5');
  });

  it('keeps one copy when an item first seen without seq comes back with one', () => {
    const noSeq = toMessageItem({ ...msg(1), seq: null, id: 'same' });
    const withSeq = toMessageItem({ ...msg(1), id: 'same' });
    const out = mergeItems([noSeq], [withSeq]);
    expect(out).toHaveLength(1);
    expect(out[0]!.seq).toBe(1);
  });
});

describe('history', () => {
  it('loads the newest page and knows whether older ones exist', () => {
    const full = run([{ type: 'history', messages: [msg(8), msg(9), msg(10)], limit: 3, older: false }]);
    expect(seqs(full)).toEqual([8, 9, 10]);
    expect(full.hasOlder).toBe(true);
    const short = run([{ type: 'history', messages: [msg(1)], limit: 3, older: false }]);
    expect(short.hasOlder).toBe(false);
  });

  it('prepends older pages and stops when a page comes back short', () => {
    let t = run([{ type: 'history', messages: [msg(4), msg(5)], limit: 2, older: false }]);
    expect(oldestSeq(t)).toBe(4);
    t = timelineReducer(t, { type: 'history', messages: [msg(2), msg(3)], limit: 2, older: true });
    expect(seqs(t)).toEqual([2, 3, 4, 5]);
    expect(t.hasOlder).toBe(true);
    t = timelineReducer(t, { type: 'history', messages: [msg(1)], limit: 2, older: true });
    expect(seqs(t)).toEqual([1, 2, 3, 4, 5]);
    expect(t.hasOlder).toBe(false);
    expect(newestSeq(t)).toBe(5);
  });

  it('merges live messages that overlap history without duplicates', () => {
    const t = run([
      { type: 'history', messages: [msg(1), msg(2), msg(3)], limit: 50, older: false },
      { type: 'message', message: msg(3) },
      { type: 'message', message: msg(5) },
      { type: 'message', message: msg(4) },
      { type: 'message', message: msg(5) },
    ]);
    expect(seqs(t)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('pending messages', () => {
  it('are confirmed by the ack matched by client_msg_id', () => {
    const t = run([
      { type: 'queue', pending: pending('c1') },
      { type: 'queue', pending: pending('c2') },
      { type: 'sent', client_msg_ids: ['c1', 'c2'] },
      { type: 'ack', client_msg_id: 'c2', id: 'srv-7', seq: 7, room_id: 'r', self: me },
    ]);
    expect(t.pending.map((p) => p.client_msg_id)).toEqual(['c1']);
    expect(t.pending[0]!.status).toBe('sending');
    expect(t.items).toHaveLength(1);
    expect(t.items[0]).toMatchObject({ kind: 'message', id: 'srv-7', seq: 7, content: 'text c2', username: 'me', client_msg_id: 'c2' });
  });

  it('do not duplicate when the echo arrives after the ack', () => {
    const t = run([
      { type: 'queue', pending: pending('c1') },
      { type: 'sent', client_msg_ids: ['c1'] },
      { type: 'ack', client_msg_id: 'c1', id: 'srv-3', seq: 3, room_id: 'r', self: me },
      { type: 'message', message: msg(3, { id: 'srv-3', client_msg_id: 'c1', content: 'text c1', user_id: 'u-me', username: 'me' }) },
    ]);
    expect(t.pending).toEqual([]);
    expect(t.items).toHaveLength(1);
  });

  it('are confirmed by the echo when it beats the ack, and the late ack changes nothing', () => {
    let t = run([
      { type: 'queue', pending: pending('c1') },
      { type: 'sent', client_msg_ids: ['c1'] },
      { type: 'message', message: msg(3, { client_msg_id: 'c1', user_id: 'u-me', username: 'me' }) },
    ]);
    expect(t.pending).toEqual([]);
    const before = t;
    t = timelineReducer(t, { type: 'ack', client_msg_id: 'c1', id: 'm3', seq: 3, room_id: 'r', self: me });
    expect(t).toBe(before);
  });

  it('are confirmed when a history page contains them', () => {
    const t = run([
      { type: 'queue', pending: pending('c9') },
      { type: 'history', messages: [msg(1, { client_msg_id: 'c9' })], limit: 50, older: false },
    ]);
    expect(t.pending).toEqual([]);
  });

  it('ignore an ack for an unknown client_msg_id', () => {
    const start = run([{ type: 'queue', pending: pending('c1') }]);
    expect(timelineReducer(start, { type: 'ack', client_msg_id: 'zz', id: 'x', seq: 1, room_id: 'r', self: me })).toBe(start);
  });

  it('fail on an error frame: the named one, or else the oldest in flight', () => {
    let t = run([
      { type: 'queue', pending: pending('a') },
      { type: 'queue', pending: pending('b') },
      { type: 'queue', pending: pending('c') },
      { type: 'sent', client_msg_ids: ['a', 'b'] },
      { type: 'send-error', client_msg_id: 'b', detail: 'Too many messages' },
    ]);
    expect(t.pending.map((p) => [p.client_msg_id, p.status, p.error])).toEqual([
      ['a', 'sending', null],
      ['b', 'failed', 'Too many messages'],
      ['c', 'queued', null],
    ]);
    t = timelineReducer(t, { type: 'send-error', client_msg_id: null, detail: 'Rate limited' });
    expect(t.pending[0]).toMatchObject({ status: 'failed', error: 'Rate limited' });
  });

  it('in flight during a disconnect wait for the resumed stream, then fail', () => {
    let t = run([
      { type: 'queue', pending: pending('a') },
      { type: 'queue', pending: pending('b') },
      { type: 'sent', client_msg_ids: ['a', 'b'] },
      { type: 'queue', pending: pending('c') },
      { type: 'connection-lost' },
    ]);
    expect(t.pending.map((p) => p.status)).toEqual(['unconfirmed', 'unconfirmed', 'queued']);
    // The resumed stream delivers "a": it was stored before the drop.
    t = timelineReducer(t, { type: 'message', message: msg(10, { client_msg_id: 'a' }) });
    t = timelineReducer(t, { type: 'expire-unconfirmed' });
    expect(t.pending.map((p) => [p.client_msg_id, p.status])).toEqual([
      ['b', 'failed'],
      ['c', 'queued'],
    ]);
    expect(queued(t).map((p) => p.client_msg_id)).toEqual(['c']);
  });

  it('can be retried with the same client_msg_id, or discarded', () => {
    let t = run([
      { type: 'queue', pending: pending('a') },
      { type: 'sent', client_msg_ids: ['a'] },
      { type: 'send-error', client_msg_id: 'a', detail: 'x' },
      { type: 'retry', client_msg_id: 'a' },
    ]);
    expect(t.pending[0]).toMatchObject({ client_msg_id: 'a', status: 'queued', error: null });
    t = timelineReducer(t, { type: 'discard', client_msg_id: 'a' });
    expect(t.pending).toEqual([]);
  });

  it('are queued only once per client_msg_id', () => {
    const t = run([
      { type: 'queue', pending: pending('a') },
      { type: 'queue', pending: pending('a') },
    ]);
    expect(t.pending).toHaveLength(1);
  });

  it('"sent" moves only queued messages', () => {
    const t = run([
      { type: 'queue', pending: pending('a') },
      { type: 'sent', client_msg_ids: ['a'] },
    ]);
    expect(timelineReducer(t, { type: 'sent', client_msg_ids: ['a'] })).toBe(t);
  });
});

describe('membership events', () => {
  it('interleave with messages by seq', () => {
    const joined: MemberItem = { kind: 'member', event: 'joined', id: 'e4', seq: 4, user_id: 'u2', username: 'bob', created_at: 't' };
    const t = run([
      { type: 'history', messages: [msg(3), msg(5)], limit: 50, older: false },
      { type: 'member', item: joined },
      { type: 'member', item: joined },
    ]);
    expect(t.items.map((i) => `${i.kind}:${i.seq}`)).toEqual(['message:3', 'member:4', 'message:5']);
  });
});

describe('helpers', () => {
  it('newClientMsgId makes distinct ids', () => {
    const ids = new Set(Array.from({ length: 50 }, newClientMsgId));
    expect(ids.size).toBe(50);
  });

  it('sameGroup groups one author within five minutes', () => {
    const a = toMessageItem(msg(1));
    const b = toMessageItem({ ...msg(2), created_at: new Date(Date.parse(a.created_at) + 60_000).toISOString() });
    const c = toMessageItem({ ...msg(3), created_at: new Date(Date.parse(a.created_at) + 10 * 60_000).toISOString() });
    const d = toMessageItem({ ...msg(2), user_id: 'x', username: 'x' });
    expect(sameGroup(a, b)).toBe(true);
    expect(sameGroup(a, c)).toBe(false);
    expect(sameGroup(a, d)).toBe(false);
    expect(sameGroup(undefined, a)).toBe(false);
  });

  it('newestSeq/oldestSeq are null for an empty timeline', () => {
    expect(newestSeq(emptyTimeline())).toBeNull();
    expect(oldestSeq(emptyTimeline())).toBeNull();
  });
});
