/** The message timeline of one room: server items merged and de-duplicated by
 * `seq`, plus the user's own messages that the server has not confirmed yet
 * ("pending"), reconciled by `client_msg_id`. Everything here is pure. */

import type { Message } from './api';
import { applyChange, type MessageChange } from './messageChanges';

export interface MessageItem extends Message {
  kind: 'message';
}

export interface MemberItem {
  kind: 'member';
  event: 'joined' | 'left';
  id: string;
  seq: number | null;
  user_id: string;
  username: string;
  created_at: string;
}

export type TimelineItem = MessageItem | MemberItem;

/**
 * - `queued`: not handed to a socket yet (offline, or waiting for a retry);
 * - `sending`: written to an open socket, no ack yet;
 * - `unconfirmed`: was sending when the socket dropped; the resumed stream may still deliver it;
 * - `failed`: the server refused it, or it was never confirmed.
 */
export type PendingStatus = 'queued' | 'sending' | 'unconfirmed' | 'failed';

export interface PendingMessage {
  client_msg_id: string;
  content: string;
  created_at: string;
  status: PendingStatus;
  error: string | null;
}

export interface Timeline {
  items: TimelineItem[];
  pending: PendingMessage[];
  /** False once an older page came back short: there is nothing before items[0]. */
  hasOlder: boolean;
}

export const emptyTimeline = (): Timeline => ({ items: [], pending: [], hasOlder: true });

function key(it: { seq: number | null; id: string }): string {
  return it.seq !== null ? `s:${it.seq}` : `i:${it.id}`;
}

function compare(a: TimelineItem, b: TimelineItem): number {
  if (a.seq !== null && b.seq !== null) return a.seq - b.seq;
  // Items without a seq (an old server) fall back to their time.
  const t = Date.parse(a.created_at) - Date.parse(b.created_at);
  if (t) return t;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Merges `incoming` into `items`: sorted ascending by seq, one item per seq (and per id).
 * A later copy of the same seq replaces the earlier one (the server's copy wins over
 * a locally confirmed one). Returns `items` itself when nothing changed. */
export function mergeItems(items: TimelineItem[], incoming: TimelineItem[]): TimelineItem[] {
  if (incoming.length === 0) return items;
  const byKey = new Map<string, TimelineItem>();
  const ids = new Map<string, string>(); // id -> key
  for (const it of items) {
    byKey.set(key(it), it);
    ids.set(it.id, key(it));
  }
  let changed = false;
  for (const it of incoming) {
    const k = key(it);
    const prevKeyForId = ids.get(it.id);
    if (prevKeyForId !== undefined && prevKeyForId !== k) {
      // The same id under another key (e.g. first seen without a seq): keep one copy.
      byKey.delete(prevKeyForId);
    }
    const prev = byKey.get(k);
    if (prev && sameItem(prev, it)) continue;
    byKey.set(k, it);
    ids.set(it.id, k);
    changed = true;
  }
  if (!changed) return items;
  return [...byKey.values()].sort(compare);
}

function sameItem(a: TimelineItem, b: TimelineItem): boolean {
  if (a.kind !== b.kind || a.id !== b.id || a.seq !== b.seq) return false;
  if (a.kind === 'message' && b.kind === 'message') {
    return (
      a.content === b.content &&
      a.username === b.username &&
      a.created_at === b.created_at &&
      a.edited_at === b.edited_at &&
      a.deleted === b.deleted &&
      a.reply_count === b.reply_count &&
      JSON.stringify(a.reactions) === JSON.stringify(b.reactions) &&
      JSON.stringify(a.mentions) === JSON.stringify(b.mentions)
    );
  }
  return true;
}

/** A message as posted: never edited, nobody reacted or replied yet. */
const UNCHANGED = { edited_at: null, deleted: false, reactions: [], reply_to: null, reply_count: 0, mentions: [] };

export function toMessageItem(m: Message): MessageItem {
  return { ...m, kind: 'message' };
}

export function newestSeq(t: Timeline): number | null {
  for (let i = t.items.length - 1; i >= 0; i--) {
    const s = t.items[i]!.seq;
    if (s !== null) return s;
  }
  return null;
}

export function oldestSeq(t: Timeline): number | null {
  for (const it of t.items) if (it.seq !== null) return it.seq;
  return null;
}

function dropPending(pending: PendingMessage[], clientMsgId: string | null): PendingMessage[] {
  if (!clientMsgId) return pending;
  const next = pending.filter((p) => p.client_msg_id !== clientMsgId);
  return next.length === pending.length ? pending : next;
}

export interface Self {
  user_id: string;
  username: string;
}

export type TimelineAction =
  | { type: 'reset' }
  /** A history page, oldest first. `older` pages are prepended; `limit` tells whether more exist. */
  | { type: 'history'; messages: Message[]; limit: number; older: boolean }
  | { type: 'message'; message: Message }
  /** A message was edited, deleted, reacted to or replied to. */
  | { type: 'change'; change: MessageChange }
  | { type: 'member'; item: MemberItem }
  | { type: 'ack'; client_msg_id: string | null; id: string | null; seq: number | null; room_id: string; self: Self }
  | { type: 'send-error'; client_msg_id: string | null; detail: string }
  | { type: 'queue'; pending: PendingMessage }
  | { type: 'sent'; client_msg_ids: string[] }
  | { type: 'connection-lost' }
  | { type: 'expire-unconfirmed' }
  | { type: 'retry'; client_msg_id: string }
  | { type: 'discard'; client_msg_id: string };

export function timelineReducer(t: Timeline, a: TimelineAction): Timeline {
  switch (a.type) {
    case 'reset':
      return emptyTimeline();

    case 'history': {
      const items = mergeItems(t.items, a.messages.map(toMessageItem));
      let pending = t.pending;
      for (const m of a.messages) pending = dropPending(pending, m.client_msg_id);
      const hasOlder = a.older || t.items.length === 0 ? a.messages.length >= a.limit : t.hasOlder;
      if (items === t.items && pending === t.pending && hasOlder === t.hasOlder) return t;
      return { ...t, items, pending, hasOlder };
    }

    case 'message': {
      const m = a.message;
      const isNew = !t.items.some((x) => x.id === m.id || (m.seq !== null && x.seq === m.seq));
      // A reply seen for the first time adds to its thread's count; the history's counts
      // already include the replies it holds, and a replayed one is not new.
      const base = isNew && m.reply_to ? applyChange(t.items, { type: 'replied', message_id: m.reply_to }) : t.items;
      const items = mergeItems(base, [toMessageItem(m)]);
      const pending = dropPending(t.pending, a.message.client_msg_id);
      if (items === t.items && pending === t.pending) return t;
      return { ...t, items, pending };
    }

    case 'change': {
      const items = applyChange(t.items, a.change);
      return items === t.items ? t : { ...t, items };
    }

    case 'member': {
      const items = mergeItems(t.items, [a.item]);
      return items === t.items ? t : { ...t, items };
    }

    case 'ack': {
      const p = a.client_msg_id ? t.pending.find((x) => x.client_msg_id === a.client_msg_id) : undefined;
      if (!p) return t;
      const pending = dropPending(t.pending, a.client_msg_id);
      // Confirm at once, in the server's order; the `message` frame that follows
      // (same seq) replaces this local copy.
      const confirmed: MessageItem = {
        kind: 'message',
        id: a.id ?? `local-${p.client_msg_id}`,
        seq: a.seq,
        room_id: a.room_id,
        user_id: a.self.user_id,
        username: a.self.username,
        content: p.content,
        client_msg_id: p.client_msg_id,
        // The web client signs in people only: a bot has no password.
        is_bot: false,
        created_at: p.created_at,
        ...UNCHANGED,
      };
      const already =
        (a.seq !== null && t.items.some((x) => x.seq === a.seq)) || (a.id !== null && t.items.some((x) => x.id === a.id));
      return { ...t, pending, items: already ? t.items : mergeItems(t.items, [confirmed]) };
    }

    case 'send-error': {
      // The error names its message when the server sends client_msg_id; otherwise
      // frames are answered in order, so it belongs to the oldest message in flight.
      const target = a.client_msg_id
        ? t.pending.find((p) => p.client_msg_id === a.client_msg_id)
        : t.pending.find((p) => p.status === 'sending');
      if (!target) return t;
      return {
        ...t,
        pending: t.pending.map((p) => (p === target ? { ...p, status: 'failed', error: a.detail } : p)),
      };
    }

    case 'queue':
      if (t.pending.some((p) => p.client_msg_id === a.pending.client_msg_id)) return t;
      return { ...t, pending: [...t.pending, a.pending] };

    case 'sent': {
      const ids = new Set(a.client_msg_ids);
      let changed = false;
      const pending = t.pending.map((p) => {
        if (ids.has(p.client_msg_id) && p.status === 'queued') {
          changed = true;
          return { ...p, status: 'sending' as const, error: null };
        }
        return p;
      });
      return changed ? { ...t, pending } : t;
    }

    case 'connection-lost': {
      if (!t.pending.some((p) => p.status === 'sending')) return t;
      return {
        ...t,
        pending: t.pending.map((p) => (p.status === 'sending' ? { ...p, status: 'unconfirmed' as const } : p)),
      };
    }

    case 'expire-unconfirmed': {
      if (!t.pending.some((p) => p.status === 'unconfirmed')) return t;
      return {
        ...t,
        pending: t.pending.map((p) =>
          p.status === 'unconfirmed'
            ? { ...p, status: 'failed' as const, error: 'Not confirmed by the server' }
            : p,
        ),
      };
    }

    case 'retry':
      return {
        ...t,
        pending: t.pending.map((p) =>
          p.client_msg_id === a.client_msg_id && p.status === 'failed' ? { ...p, status: 'queued' as const, error: null } : p,
        ),
      };

    case 'discard': {
      const pending = dropPending(t.pending, a.client_msg_id);
      return pending === t.pending ? t : { ...t, pending };
    }
  }
}

/** Pending messages that should be written to the socket as soon as it is open. */
export function queued(t: Timeline): PendingMessage[] {
  return t.pending.filter((p) => p.status === 'queued');
}

/** A new client message id (a UUID where the browser offers one). */
export function newClientMsgId(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Whether two consecutive messages should be drawn as one group (same author, close in time). */
export function sameGroup(prev: TimelineItem | undefined, cur: TimelineItem, gapMs = 5 * 60_000): boolean {
  if (!prev || prev.kind !== 'message' || cur.kind !== 'message') return false;
  if (prev.user_id !== cur.user_id || prev.username !== cur.username) return false;
  const d = Date.parse(cur.created_at) - Date.parse(prev.created_at);
  return Number.isFinite(d) && d >= 0 && d < gapMs;
}
