/** A message as the server describes it (history, replies, posting answers, v2 message frames),
 * read defensively: whatever a field holds, the client gets a well-formed message or none. */

import type { components } from './api-types';
import { asNumberOrNull, asString, str } from './fields';

type Schemas = components['schemas'];
type MessageView = Schemas['MessageView'];

/** One emoji on a message: how many reacted with it, and the first ten who did. */
export type Reaction = Schemas['ReactionView'];

/** A member named with `@username` in a message. */
export type Mention = Schemas['MentionView'];

/** A message as history serves it and the socket's message frames carry it; `seq` is null only
 * for a frame that came without one. */
export type Message = Omit<MessageView, 'seq'> & { seq: MessageView['seq'] | null };

/** The largest number of reactors whose names the server lists per emoji. */
export const REACTION_NAMES_LISTED = 10;

function reaction(raw: unknown): Reaction | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  const emoji = str(o.emoji);
  if (!emoji) return null;
  const usernames = [...new Set((Array.isArray(o.usernames) ? o.usernames : []).map(str).filter((u): u is string => !!u))];
  const count = Math.max(Math.floor(asNumberOrNull(o.count) ?? 0), usernames.length);
  return count > 0 ? { emoji, count, usernames } : null;
}

function mention(raw: unknown): Mention | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  const username = str(o.username);
  if (!username) return null;
  return { user_id: str(o.user_id) ?? username, username };
}

function listOf<T>(v: unknown, f: (x: unknown) => T | null, keyOf: (x: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const raw of Array.isArray(v) ? v : []) {
    const x = f(raw);
    if (x && !seen.has(keyOf(x))) {
      seen.add(keyOf(x));
      out.push(x);
    }
  }
  return out;
}

/** The mentions of a message or an edit frame. */
export function mentionsOf(v: unknown): Mention[] {
  return listOf(v, mention, (m) => m.user_id);
}

/** A message from the history endpoint or a WebSocket `message` frame. A deleted one never
 * carries its old text or reactions, whatever the answer held. */
export function normalizeMessage(raw: unknown, roomId = ''): Message | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  const seq = asNumberOrNull(o.seq);
  const id = str(o.id) ?? (seq !== null ? `seq-${seq}` : null);
  if (id === null) return null;
  const deleted = o.deleted === true;
  return {
    id,
    seq,
    room_id: asString(o.room_id, roomId),
    user_id: asString(o.user_id),
    username: asString(o.username, 'unknown'),
    content: deleted ? '' : asString(o.content),
    client_msg_id: str(o.client_msg_id),
    is_bot: o.is_bot === true,
    created_at: asString(o.created_at, new Date().toISOString()),
    edited_at: str(o.edited_at),
    deleted,
    reactions: deleted ? [] : listOf(o.reactions, reaction, (r) => r.emoji),
    reply_to: str(o.reply_to),
    reply_count: Math.max(0, Math.floor(asNumberOrNull(o.reply_count) ?? 0)),
    mentions: deleted ? [] : mentionsOf(o.mentions),
  };
}
