/** The WebSocket v2 dialect: parsing server frames defensively and building client frames. */

import { normalizeMessage, type Message } from './api';
import type { MessageChange } from './messageChanges';
import { mentionsOf } from './messageShape';

export interface PresenceUser {
  user_id: string;
  username: string;
}

export type ServerFrame =
  | { type: 'message'; message: Message }
  | { type: 'ack'; id: string | null; seq: number | null; client_msg_id: string | null }
  | { type: 'error'; code: string | null; detail: string; client_msg_id: string | null }
  | {
      type: 'member_joined' | 'member_left';
      seq: number | null;
      user_id: string;
      username: string;
      id: string | null;
      created_at: string | null;
    }
  /** A member's role changed (e.g. ownership passed on): only its seq matters here. */
  | { type: 'member_role_changed'; seq: number | null; user_id: string; username: string; role: string | null }
  /** A message was edited, deleted or reacted to: `change` says how, `seq` is the event's. */
  | { type: 'message_changed'; seq: number | null; change: MessageChange }
  | { type: 'typing'; user_id: string; username: string }
  /** A member read the room up to `seq` (not a room event: it moves no resume cursor). */
  | { type: 'read'; user_id: string; username: string; seq: number }
  | { type: 'presence'; users: PresenceUser[] }
  | { type: 'presence_changed'; joined: PresenceUser[]; left: PresenceUser[] }
  | { type: 'pong' }
  | { type: 'system'; content: string };

function s(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

function n(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function user(o: unknown): PresenceUser | null {
  if (!o || typeof o !== 'object') return null;
  const r = o as Record<string, unknown>;
  const id = s(r.user_id) ?? s(r.id);
  const name = s(r.username) ?? s(r.name);
  if (id === null && name === null) return null;
  return { user_id: id ?? name!, username: name ?? id! };
}

/** A list of users, de-duplicated and sorted by name; junk entries are skipped. */
function users(list: unknown): PresenceUser[] {
  const seen = new Set<string>();
  const out: PresenceUser[] = [];
  for (const raw of Array.isArray(list) ? list : []) {
    const u = user(raw);
    if (u && !seen.has(u.user_id)) {
      seen.add(u.user_id);
      out.push(u);
    }
  }
  return out.sort((a, b) => a.username.localeCompare(b.username));
}

/** Parses one text frame; returns null for anything this client does not understand. */
export function parseServerFrame(data: unknown, roomId: string): ServerFrame | null {
  if (typeof data !== 'string') return null;
  let o: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(data);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
    o = v as Record<string, unknown>;
  } catch {
    return null;
  }
  switch (o.type) {
    case 'message': {
      const m = normalizeMessage(o, roomId);
      return m ? { type: 'message', message: m } : null;
    }
    case 'ack':
      return { type: 'ack', id: s(o.id), seq: n(o.seq), client_msg_id: s(o.client_msg_id) };
    case 'error': {
      let detail = s(o.detail) ?? s(o.message) ?? 'The server refused the last action';
      const retryAfter = n(o.retry_after);
      if (retryAfter !== null && !/retry|try again/i.test(detail)) detail = `${detail} (try again in ${Math.ceil(retryAfter)} s)`;
      return { type: 'error', code: s(o.code), detail, client_msg_id: s(o.client_msg_id) };
    }
    case 'member_joined':
    case 'member_left': {
      const u = user(o);
      return {
        type: o.type,
        seq: n(o.seq),
        user_id: u?.user_id ?? '',
        username: u?.username ?? 'someone',
        id: s(o.id),
        created_at: s(o.created_at),
      };
    }
    case 'member_role_changed': {
      const u = user(o);
      return {
        type: 'member_role_changed',
        seq: n(o.seq),
        user_id: u?.user_id ?? '',
        username: u?.username ?? 'someone',
        role: s(o.role),
      };
    }
    case 'message_edited':
    case 'message_deleted':
    case 'reaction_added':
    case 'reaction_removed': {
      const change = messageChange(o);
      return change ? { type: 'message_changed', seq: n(o.seq), change } : null;
    }
    case 'typing': {
      const u = user(o);
      return u ? { type: 'typing', ...u } : null;
    }
    case 'read': {
      const u = user(o);
      const seq = n(o.seq);
      return u && seq !== null ? { type: 'read', ...u, seq } : null;
    }
    case 'presence':
      return { type: 'presence', users: users(o.users) };
    case 'presence_changed':
      return { type: 'presence_changed', joined: users(o.joined), left: users(o.left) };
    case 'pong':
      return { type: 'pong' };
    case 'system':
      return { type: 'system', content: s(o.content) ?? '' };
    default:
      return null;
  }
}

/** The change a `message_edited`, `message_deleted`, `reaction_added` or `reaction_removed`
 * frame tells; null when it names no message (or no emoji, or no one). */
function messageChange(o: Record<string, unknown>): MessageChange | null {
  const id = s(o.message_id);
  if (!id) return null;
  switch (o.type) {
    case 'message_edited':
      return { type: 'edited', message_id: id, content: s(o.content) ?? '', edited_at: s(o.edited_at), mentions: mentionsOf(o.mentions) };
    case 'message_deleted':
      return { type: 'deleted', message_id: id };
    default: {
      const emoji = s(o.emoji);
      const username = s(o.username);
      if (!emoji || !username) return null;
      return { type: 'reaction', message_id: id, emoji, username, on: o.type === 'reaction_added' };
    }
  }
}

/** Who is connected after a presence frame: the server sends the whole list when the socket
 * opens, then batches of arrivals and departures (a full list to every socket on every change
 * would cost the square of the room's size). Changes before the first list are ignored. */
export function applyPresence(
  current: PresenceUser[] | null,
  f: Extract<ServerFrame, { type: 'presence' | 'presence_changed' }>,
): PresenceUser[] | null {
  if (f.type === 'presence') return f.users;
  if (current === null) return null;
  const gone = new Set([...f.left, ...f.joined].map((u) => u.user_id));
  return [...current.filter((u) => !gone.has(u.user_id)), ...f.joined].sort((a, b) =>
    a.username.localeCompare(b.username),
  );
}

/** The seq a frame advances the resume cursor to (messages and membership events carry one). */
export function frameSeq(f: ServerFrame): number | null {
  if (f.type === 'message') return f.message.seq;
  if (f.type === 'member_joined' || f.type === 'member_left' || f.type === 'member_role_changed') return f.seq;
  if (f.type === 'message_changed') return f.seq;
  return null;
}

export const sendFrame = (content: string, clientMsgId: string) =>
  JSON.stringify({ type: 'send', content, client_msg_id: clientMsgId });
export const typingFrame = () => JSON.stringify({ type: 'typing' });
export const pingFrame = () => JSON.stringify({ type: 'ping' });
export const resumeFrame = (since: number) => JSON.stringify({ type: 'resume', since });

/** A sentence for who is typing, or '' for nobody. */
export function typingText(names: string[]): string {
  const u = [...new Set(names)];
  if (u.length === 0) return '';
  if (u.length === 1) return `${u[0]} is typing…`;
  if (u.length === 2) return `${u[0]} and ${u[1]} are typing…`;
  if (u.length === 3) return `${u[0]}, ${u[1]} and ${u[2]} are typing…`;
  return 'Several people are typing…';
}
