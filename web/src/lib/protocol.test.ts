import { describe, expect, it } from 'vitest';
import { applyPresence, frameSeq, parseServerFrame, pingFrame, resumeFrame, sendFrame, typingFrame, typingText } from './protocol';

const p = (o: unknown) => parseServerFrame(JSON.stringify(o), 'room-9');

describe('parseServerFrame', () => {
  it('parses a message frame; one without the fields of later changes (or is_bot) is as posted', () => {
    const f = p({ type: 'message', id: 'm1', seq: 3, room_id: 'r', user_id: 'u', username: 'al', content: 'hi', client_msg_id: 'c', created_at: 't' });
    expect(f).toEqual({
      type: 'message',
      message: {
        id: 'm1',
        seq: 3,
        room_id: 'r',
        user_id: 'u',
        username: 'al',
        content: 'hi',
        client_msg_id: 'c',
        created_at: 't',
        is_bot: false,
        edited_at: null,
        deleted: false,
        reactions: [],
        reply_to: null,
        reply_count: 0,
        mentions: [],
      },
    });
    expect(frameSeq(f!)).toBe(3);
  });

  it('parses a read receipt, which moves no resume cursor; one without a seq is dropped', () => {
    const f = p({ type: 'read', room_id: 'r', user_id: 'u', username: 'al', seq: 12 });
    expect(f).toEqual({ type: 'read', user_id: 'u', username: 'al', seq: 12 });
    expect(frameSeq(f!)).toBeNull();
    expect(p({ type: 'read', user_id: 'u', username: 'al' })).toBeNull();
    expect(p({ type: 'read', seq: 3 })).toBeNull();
  });

  it('parses ack, error, typing, pong', () => {
    expect(p({ type: 'ack', id: 'm', seq: 4, client_msg_id: 'c' })).toEqual({ type: 'ack', id: 'm', seq: 4, client_msg_id: 'c' });
    expect(p({ type: 'error', code: 'rate_limited', detail: 'Slow down' })).toEqual({
      type: 'error',
      code: 'rate_limited',
      detail: 'Slow down',
      client_msg_id: null,
    });
    expect(p({ type: 'error' })).toMatchObject({ detail: expect.stringMatching(/refused/) });
    expect(p({ type: 'error', code: 'rate_limited', detail: 'Slow down', retry_after: 2 })).toMatchObject({
      detail: 'Slow down (try again in 2 s)',
    });
    expect(p({ type: 'typing', user_id: 'u', username: 'al' })).toEqual({ type: 'typing', user_id: 'u', username: 'al' });
    expect(p({ type: 'typing' })).toBeNull();
    expect(p({ type: 'pong' })).toEqual({ type: 'pong' });
  });

  it('parses membership events with their seq', () => {
    const f = p({ type: 'member_left', seq: 8, user_id: 'u', username: 'bo' });
    expect(f).toMatchObject({ type: 'member_left', seq: 8, user_id: 'u', username: 'bo' });
    expect(frameSeq(f!)).toBe(8);
    expect(frameSeq(p({ type: 'ack', seq: 9 })!)).toBeNull();
    const role = p({ type: 'member_role_changed', seq: 10, user_id: 'u', username: 'bo', role: 'owner' });
    expect(role).toEqual({ type: 'member_role_changed', seq: 10, user_id: 'u', username: 'bo', role: 'owner' });
    expect(frameSeq(role!)).toBe(10);
  });

  it('de-duplicates and sorts presence', () => {
    const f = p({
      type: 'presence',
      users: [
        { user_id: '2', username: 'zed' },
        { user_id: '1', username: 'amy' },
        { user_id: '2', username: 'zed' },
        'junk',
      ],
    });
    expect(f).toEqual({
      type: 'presence',
      users: [
        { user_id: '1', username: 'amy' },
        { user_id: '2', username: 'zed' },
      ],
    });
    expect(p({ type: 'presence' })).toEqual({ type: 'presence', users: [] });
  });

  it('follows presence: the list on open, then batches of arrivals and departures', () => {
    const list = p({ type: 'presence', users: [{ user_id: '2', username: 'zed' }] })!;
    const joined = p({ type: 'presence_changed', joined: [{ user_id: '1', username: 'amy' }], left: [] })!;
    const left = p({ type: 'presence_changed', joined: [], left: [{ user_id: '2', username: 'zed' }] })!;
    expect(joined).toEqual({ type: 'presence_changed', joined: [{ user_id: '1', username: 'amy' }], left: [] });
    expect(p({ type: 'presence_changed' })).toEqual({ type: 'presence_changed', joined: [], left: [] });
    if (list.type !== 'presence' || joined.type !== 'presence_changed' || left.type !== 'presence_changed') throw new Error();
    expect(applyPresence(null, joined)).toBeNull();
    const both = applyPresence(applyPresence(null, list), joined);
    expect(both).toEqual([
      { user_id: '1', username: 'amy' },
      { user_id: '2', username: 'zed' },
    ]);
    expect(applyPresence(both, joined)).toEqual(both);
    expect(applyPresence(both, left)).toEqual([{ user_id: '1', username: 'amy' }]);
  });

  it('ignores unknown or malformed frames', () => {
    expect(p({ type: 'weird' })).toBeNull();
    expect(p([1])).toBeNull();
    expect(parseServerFrame('nope', 'r')).toBeNull();
    expect(parseServerFrame(new ArrayBuffer(2), 'r')).toBeNull();
  });
});

describe('client frames', () => {
  it('are JSON objects of the v2 dialect', () => {
    expect(JSON.parse(sendFrame('hello', 'c-1'))).toEqual({ type: 'send', content: 'hello', client_msg_id: 'c-1' });
    expect(JSON.parse(typingFrame())).toEqual({ type: 'typing' });
    expect(JSON.parse(pingFrame())).toEqual({ type: 'ping' });
    expect(JSON.parse(resumeFrame(12))).toEqual({ type: 'resume', since: 12 });
  });
});

describe('typingText', () => {
  it('names who is typing', () => {
    expect(typingText([])).toBe('');
    expect(typingText(['al'])).toBe('al is typing…');
    expect(typingText(['al', 'al'])).toBe('al is typing…');
    expect(typingText(['al', 'bo'])).toBe('al and bo are typing…');
    expect(typingText(['a', 'b', 'c'])).toBe('a, b and c are typing…');
    expect(typingText(['a', 'b', 'c', 'd'])).toBe('Several people are typing…');
  });
});

describe('frames that change a message', () => {
  it('parses edits, deletions and reactions, each advancing the resume cursor', () => {
    const edited = p({ type: 'message_edited', seq: 9, room_id: 'r', message_id: 'm1', content: 'hi @bo', edited_at: 't', mentions: [{ user_id: 'u', username: 'bo' }, 7] });
    expect(edited).toEqual({
      type: 'message_changed',
      seq: 9,
      change: { type: 'edited', message_id: 'm1', content: 'hi @bo', edited_at: 't', mentions: [{ user_id: 'u', username: 'bo' }] },
    });
    expect(frameSeq(edited!)).toBe(9);
    expect(p({ type: 'message_deleted', seq: 10, room_id: 'r', message_id: 'm1' })).toEqual({
      type: 'message_changed',
      seq: 10,
      change: { type: 'deleted', message_id: 'm1' },
    });
    const added = { seq: 11, room_id: 'r', message_id: 'm1', emoji: '👍', user_id: 'u', username: 'bo' };
    expect(p({ type: 'reaction_added', ...added })).toMatchObject({ change: { type: 'reaction', emoji: '👍', username: 'bo', on: true } });
    expect(p({ type: 'reaction_removed', ...added })).toMatchObject({ seq: 11, change: { on: false } });
  });

  it('drops a change that names no message, no emoji or no one', () => {
    expect(p({ type: 'message_deleted', seq: 1 })).toBeNull();
    expect(p({ type: 'reaction_added', seq: 1, message_id: 'm', username: 'bo' })).toBeNull();
    expect(p({ type: 'reaction_removed', seq: 1, message_id: 'm', emoji: '👍' })).toBeNull();
  });
});
