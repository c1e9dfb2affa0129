import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReadMarker, badgeText, readStateOf, seenBy, seenText, shownUnread } from './reads';

describe('unread badges', () => {
  const server = { last_read_seq: 10, unread: 4 };

  it('show the server count, but none for the room being read', () => {
    expect(shownUnread(server, undefined, false)).toBe(4);
    expect(shownUnread(server, undefined, true)).toBe(0);
    expect(shownUnread(undefined, undefined, false)).toBe(0);
  });

  it('stay cleared until the server caught up with what this client marked read', () => {
    expect(shownUnread(server, 12, false)).toBe(0);
    expect(shownUnread(server, 10, false)).toBe(4);
    expect(shownUnread({ last_read_seq: 12, unread: 1 }, 12, false)).toBe(1);
  });

  it('say 999+ at the cap', () => {
    expect(badgeText(3)).toBe('3');
    expect(badgeText(999)).toBe('999+');
  });

  it('read only well-formed entries', () => {
    expect(readStateOf({ id: 'r', last_read_seq: 3, unread: 2 })).toEqual(['r', { last_read_seq: 3, unread: 2 }]);
    expect(readStateOf({ id: 'r', last_read_seq: 3 })).toBeNull();
    expect(readStateOf({ id: 'r', unread: 'x', last_read_seq: 1 })).toBeNull();
    expect(readStateOf(null)).toBeNull();
  });
});

describe('read receipts', () => {
  const receipts = [
    { user_id: 'a', username: 'alice', seq: 9 },
    { user_id: 'b', username: 'bob', seq: 7 },
    { user_id: 'c', username: 'carol', seq: 12 },
    { user_id: 'me', username: 'me', seq: 12 },
  ];

  it('name who read the last message, not its author nor the reader', () => {
    expect(seenBy(receipts, { seq: 9, user_id: 'x' }, 'me')).toEqual(['alice', 'carol']);
    expect(seenBy(receipts, { seq: 9, user_id: 'a' }, 'me')).toEqual(['carol']);
    expect(seenBy(receipts, null, 'me')).toEqual([]);
  });

  it('read as a sentence', () => {
    expect(seenText([])).toBe('');
    expect(seenText(['alice', 'bob'])).toBe('Seen by alice, bob');
    expect(seenText(['a', 'b', 'c', 'd'])).toBe('Seen by a, b, c and 1 other');
    expect(seenText(['a', 'b', 'c', 'd', 'e'])).toBe('Seen by a, b, c and 2 others');
  });
});

describe('marking read', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the first move at once and the furthest of the rest once a second', () => {
    const sent: number[] = [];
    const marker = new ReadMarker((seq) => sent.push(seq));
    marker.mark(3);
    marker.mark(4);
    marker.mark(6);
    marker.mark(5);
    expect(sent).toEqual([3]);
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual([3, 6]);
    vi.advanceTimersByTime(5_000);
    expect(sent).toEqual([3, 6]);
    marker.mark(7);
    expect(sent).toEqual([3, 6, 7]);
  });

  it('never goes back, and sends what is held when stopped', () => {
    const sent: number[] = [];
    const marker = new ReadMarker((seq) => sent.push(seq));
    marker.mark(5);
    marker.mark(2);
    marker.mark(8);
    marker.stop();
    expect(sent).toEqual([5, 8]);
    marker.stop();
    expect(sent).toEqual([5, 8]);
  });
});
