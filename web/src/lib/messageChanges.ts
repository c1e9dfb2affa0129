/** What happens to a message after it was posted (edited, deleted, reacted to, replied to),
 * applied to a list of timeline items. Every change is idempotent: resuming a socket replays
 * changes the history it loaded may already show, and applying one twice must not count twice. */

import { REACTION_NAMES_LISTED, type Mention, type Message, type Reaction } from './messageShape';
import type { TimelineItem } from './messages';

export type MessageChange =
  | { type: 'edited'; message_id: string; content: string; edited_at: string | null; mentions: Mention[] }
  | { type: 'deleted'; message_id: string }
  | { type: 'reaction'; message_id: string; emoji: string; username: string; on: boolean }
  | { type: 'replied'; message_id: string };

/** The edit an answer to `PATCH …/messages/{id}` stands for. */
export function editOf(m: Message): MessageChange {
  return { type: 'edited', message_id: m.id, content: m.content, edited_at: m.edited_at, mentions: m.mentions };
}

/** A message's reactions with `username`'s `emoji` added (`on`) or taken back, as a set: adding
 * a name already listed, or taking back one a complete list does not hold, changes nothing. Past
 * `REACTION_NAMES_LISTED` reactors the list is partial, and an unlisted name is counted. */
export function withReaction(reactions: Reaction[], emoji: string, username: string, on: boolean): Reaction[] {
  const i = reactions.findIndex((r) => r.emoji === emoji);
  const r = i >= 0 ? reactions[i]! : null;
  if (on) {
    if (!r) return [...reactions, { emoji, count: 1, usernames: [username] }];
    if (r.usernames.includes(username)) return reactions;
    const usernames = r.usernames.length < REACTION_NAMES_LISTED ? [...r.usernames, username] : r.usernames;
    return reactions.map((x, j) => (j === i ? { ...r, count: r.count + 1, usernames } : x));
  }
  if (!r) return reactions;
  const listed = r.usernames.includes(username);
  const complete = r.count <= r.usernames.length;
  if (!listed && complete) return reactions;
  if (r.count <= 1) return reactions.filter((_, j) => j !== i);
  return reactions.map((x, j) =>
    j === i ? { ...r, count: r.count - 1, usernames: r.usernames.filter((u) => u !== username) } : x,
  );
}

/** Whether `username` is among those who reacted with this emoji (as far as the list tells). */
export const reacted = (r: Reaction, username: string) => r.usernames.includes(username);

/** The message after `c`; the same object when `c` changes nothing. */
export function changeMessage<M extends Message>(m: M, c: MessageChange): M {
  switch (c.type) {
    case 'edited':
      // A deleted message stays deleted: a late or replayed edit never brings its text back.
      if (m.deleted) return m;
      if (m.content === c.content && m.edited_at === c.edited_at && sameMentions(m.mentions, c.mentions)) return m;
      return { ...m, content: c.content, edited_at: c.edited_at ?? m.edited_at, mentions: c.mentions };
    case 'deleted':
      if (m.deleted && m.content === '') return m;
      return { ...m, deleted: true, content: '', reactions: [], mentions: [] };
    case 'reaction': {
      if (m.deleted) return m;
      const reactions = withReaction(m.reactions, c.emoji, c.username, c.on);
      return reactions === m.reactions ? m : { ...m, reactions };
    }
    case 'replied':
      return { ...m, reply_count: m.reply_count + 1 };
  }
}

function sameMentions(a: Mention[], b: Mention[]): boolean {
  return a.length === b.length && a.every((m, i) => m.user_id === b[i]!.user_id && m.username === b[i]!.username);
}

/** `items` with `c` applied to the message it names; `items` itself when nothing changed. */
export function applyChange(items: TimelineItem[], c: MessageChange): TimelineItem[] {
  const i = items.findIndex((x) => x.kind === 'message' && x.id === c.message_id);
  const before = items[i];
  if (!before || before.kind !== 'message') return items;
  const after = changeMessage(before, c);
  return after === before ? items : items.map((x, j) => (j === i ? after : x));
}
