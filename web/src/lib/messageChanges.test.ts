import { describe, expect, it } from 'vitest';
import { applyChange, changeMessage, editOf, withReaction, type MessageChange } from './messageChanges';
import { normalizeMessage, type Message, type Reaction } from './messageShape';
import { emptyTimeline, timelineReducer, toMessageItem, type Timeline, type TimelineAction } from './messages';

function msg(seq: number, extra: Partial<Message> = {}): Message {
  return normalizeMessage({
    id: `m${seq}`,
    seq,
    room_id: 'r',
    user_id: 'u-alice',
    username: 'alice',
    content: `message ${seq}`,
    created_at: new Date(Date.UTC(2025, 0, 1, 12, 0, seq)).toISOString(),
    ...extra,
  })!;
}

const run = (actions: TimelineAction[], start: Timeline = emptyTimeline()) => actions.reduce(timelineReducer, start);
const history = (...messages: Message[]): TimelineAction => ({ type: 'history', messages, limit: 50, older: false });
const change = (c: MessageChange): TimelineAction => ({ type: 'change', change: c });
const react = (id: string, emoji: string, username: string, on = true): TimelineAction =>
  change({ type: 'reaction', message_id: id, emoji, username, on });
const message = (t: Timeline, id: string) => t.items.find((x) => x.id === id) as Message;

describe('reactions as sets', () => {
  it('adds in first-use order and counts each person once, however often it is replayed', () => {
    let r: Reaction[] = [];
    r = withReaction(r, '👍', 'alice', true);
    r = withReaction(r, '🎉', 'bob', true);
    r = withReaction(r, '👍', 'bob', true);
    const again = withReaction(r, '👍', 'bob', true);
    expect(again).toBe(r);
    expect(r).toEqual([
      { emoji: '👍', count: 2, usernames: ['alice', 'bob'] },
      { emoji: '🎉', count: 1, usernames: ['bob'] },
    ]);
  });

  it('takes back only what is there, and drops an emoji nobody uses any more', () => {
    const r: Reaction[] = [{ emoji: '👍', count: 2, usernames: ['alice', 'bob'] }];
    expect(withReaction(r, '👍', 'carol', false)).toBe(r);
    expect(withReaction(r, '🎉', 'bob', false)).toBe(r);
    const one = withReaction(r, '👍', 'bob', false);
    expect(one).toEqual([{ emoji: '👍', count: 1, usernames: ['alice'] }]);
    expect(withReaction(one, '👍', 'alice', false)).toEqual([]);
  });

  it('past ten reactors, where the list is partial, counts an unlisted name', () => {
    const names = Array.from({ length: 10 }, (_, i) => `u${i}`);
    const r: Reaction[] = [{ emoji: '👍', count: 12, usernames: names }];
    expect(withReaction(r, '👍', 'zed', true)[0]).toEqual({ emoji: '👍', count: 13, usernames: names });
    expect(withReaction(r, '👍', 'zed', false)[0]!.count).toBe(11);
    expect(withReaction(r, '👍', 'u3', true)).toBe(r);
  });
});

describe('changes applied to the timeline', () => {
  it('an edit replaces the text, marks the time and recomputes mentions', () => {
    const t = run([
      history(msg(1), msg(2)),
      change({ type: 'edited', message_id: 'm2', content: 'hi @bob', edited_at: '2025-01-01T13:00:00Z', mentions: [{ user_id: 'u-bob', username: 'bob' }] }),
    ]);
    expect(message(t, 'm2')).toMatchObject({ content: 'hi @bob', edited_at: '2025-01-01T13:00:00Z', mentions: [{ username: 'bob' }] });
    expect(message(t, 'm1').content).toBe('message 1');
  });

  it('a deleted message becomes a tombstone: no text, no reactions, its id and seq kept', () => {
    const t = run([history(msg(1)), react('m1', '👍', 'bob'), change({ type: 'deleted', message_id: 'm1' })]);
    expect(message(t, 'm1')).toMatchObject({ id: 'm1', seq: 1, deleted: true, content: '', reactions: [], mentions: [] });
  });

  it('never brings a deleted message back: a late edit or reaction after the deletion changes nothing', () => {
    const t0 = run([history(msg(1)), change({ type: 'deleted', message_id: 'm1' })]);
    const t1 = run(
      [change({ type: 'edited', message_id: 'm1', content: 'secret', edited_at: 'x', mentions: [] }), react('m1', '👍', 'bob')],
      t0,
    );
    expect(t1).toBe(t0);
  });

  it('a deleted message from the server never shows its content, whatever it held', () => {
    const m = normalizeMessage({ id: 'x', seq: 1, content: 'the old text', deleted: true, reactions: [{ emoji: '👍', count: 1, usernames: ['a'] }] });
    expect(m).toMatchObject({ content: '', deleted: true, reactions: [] });
  });

  it('replaying the frames a resumed socket sends after history that already showed them ends in the same state', () => {
    const fromHistory = msg(5, { content: 'edited', edited_at: 't2', reactions: [{ emoji: '👍', count: 1, usernames: ['bob'] }] });
    const replay: TimelineAction[] = [
      change({ type: 'edited', message_id: 'm5', content: 'edited', edited_at: 't2', mentions: [] }),
      react('m5', '👍', 'bob'),
    ];
    const t0 = run([history(fromHistory)]);
    expect(run(replay, t0)).toBe(t0);
    // And a replay that ends with a removal leaves it removed.
    expect(message(run([...replay, react('m5', '👍', 'bob', false)], t0), 'm5').reactions).toEqual([]);
  });

  it('a change to a message not loaded is ignored', () => {
    const t0 = run([history(msg(1))]);
    expect(run([react('nope', '👍', 'bob'), change({ type: 'deleted', message_id: 'nope' })], t0)).toBe(t0);
  });

  it('an edit answer stands for the same change as its frame', () => {
    const edited = msg(3, { content: 'new', edited_at: 't' });
    expect(changeMessage(msg(3), editOf(edited))).toMatchObject({ content: 'new', edited_at: 't' });
    expect(applyChange([toMessageItem(msg(3))], editOf(msg(3)))).toHaveLength(1);
  });
});

describe('reply counts', () => {
  it('a reply seen for the first time adds one to its thread; a replayed one does not', () => {
    const reply = msg(2, { reply_to: 'm1' });
    const t = run([history(msg(1)), { type: 'message', message: reply }, { type: 'message', message: reply }]);
    expect(message(t, 'm1').reply_count).toBe(1);
  });

  it('the history’s counts already include the replies it holds', () => {
    const t = run([history(msg(1, { reply_count: 1 }), msg(2, { reply_to: 'm1' }))]);
    expect(message(t, 'm1').reply_count).toBe(1);
  });

  it('a reply whose thread is not loaded is kept, counting nothing', () => {
    const t = run([history(msg(5)), { type: 'message', message: msg(6, { reply_to: 'm1' }) }]);
    expect(t.items.map((x) => x.id)).toEqual(['m5', 'm6']);
    expect(message(t, 'm5').reply_count).toBe(0);
  });
});
