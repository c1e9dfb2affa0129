import { describe, expect, it } from 'vitest';
import { highlightSegments, normalizeSearchPage } from './search';

const message = (extra: Record<string, unknown> = {}) => ({
  id: 'm1',
  seq: 7,
  room_id: 'r1',
  user_id: 'u1',
  username: 'alice',
  content: '<b>bold</b> kiwi',
  client_msg_id: null,
  created_at: '2026-01-01T00:00:00Z',
  is_bot: false,
  edited_at: null,
  deleted: false,
  reactions: [],
  reply_to: null,
  reply_count: 0,
  mentions: [],
  ...extra,
});

describe('highlightSegments', () => {
  it('cuts the snippet into plain and marked runs', () => {
    expect(highlightSegments('the quick fox', [[4, 9]])).toEqual([
      { text: 'the ', marked: false },
      { text: 'quick', marked: true },
      { text: ' fox', marked: false },
    ]);
  });

  it('counts code points, as the server does, not UTF-16 units', () => {
    // 😀 is two UTF-16 units but one code point.
    expect(highlightSegments('😀 kiwi', [[2, 6]])).toEqual([
      { text: '😀 ', marked: false },
      { text: 'kiwi', marked: true },
    ]);
  });

  it('shows every character once, in order, whatever ranges came', () => {
    const text = 'abcdefghij';
    for (const ranges of [
      [[5, 8], [1, 3]],
      [[1, 6], [4, 9]],
      [[8, 40]],
      [[3, 3], [-5, 2]],
      [[20, 30]],
    ] as [number, number][][]) {
      const segments = highlightSegments(text, ranges);
      expect(segments.map((s) => s.text).join('')).toBe(text);
      expect(segments.every((s) => s.text.length > 0)).toBe(true);
    }
  });

  it('keeps text that looks like markup as text', () => {
    const segments = highlightSegments('<b>bold</b>', [[3, 7]]);
    expect(segments).toEqual([
      { text: '<b>', marked: false },
      { text: 'bold', marked: true },
      { text: '</b>', marked: false },
    ]);
  });
});

describe('normalizeSearchPage', () => {
  it('reads a page the server sent', () => {
    const page = normalizeSearchPage({
      results: [{ room_id: 'r1', seq: 7, snippet: '<b>bold</b> kiwi', highlights: [[12, 16]], message: message() }],
      next: 'abc',
    });
    expect(page?.next).toBe('abc');
    expect(page?.results[0]).toMatchObject({ roomId: 'r1', seq: 7, highlights: [[12, 16]] });
    expect(page?.results[0]?.message.content).toBe('<b>bold</b> kiwi');
  });

  it('drops what is not a result and refuses what is not a page', () => {
    const page = normalizeSearchPage({
      results: [null, { room_id: 'r1' }, { room_id: 'r1', seq: 7, snippet: 'x', highlights: [[0, 'a'], [0, 1, 2], [0, 1]], message: message() }],
      next: null,
    });
    expect(page?.results).toHaveLength(1);
    expect(page?.results[0]?.highlights).toEqual([[0, 1]]);
    expect(page?.next).toBeNull();
    expect(normalizeSearchPage([])).toBeNull();
    expect(normalizeSearchPage({ results: 'x' })).toBeNull();
  });
});
