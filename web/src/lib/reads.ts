/** Read positions on the client: unread badges, the "Seen by" line, and marking read without
 * a request per message. */

import { asNumberOrNull, str } from './fields';

/** How far the user read a room and what is left, as `GET /users/me/rooms` says. */
export interface ReadState {
  last_read_seq: number;
  unread: number;
}

/** The server counts unread messages up to this many. */
export const UNREAD_CAP = 999;

/** A room's read state from one entry of `GET /users/me/rooms`; null when it has none. */
export function readStateOf(raw: unknown): [string, ReadState] | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  const id = str(o.id);
  const last = asNumberOrNull(o.last_read_seq);
  const unread = asNumberOrNull(o.unread);
  if (id === null || last === null || unread === null) return null;
  return [id, { last_read_seq: last, unread: Math.max(0, unread) }];
}

/**
 * The badge count of a room: none for the room being read; none while the server has not yet
 * caught up with a position this client marked (its count would be stale); otherwise the
 * server's.
 */
export function shownUnread(server: ReadState | undefined, markedUpTo: number | undefined, active: boolean): number {
  if (active || !server) return 0;
  if (markedUpTo !== undefined && server.last_read_seq < markedUpTo) return 0;
  return server.unread;
}

export const badgeText = (unread: number) => (unread >= UNREAD_CAP ? `${UNREAD_CAP}+` : String(unread));

/** How far one member has read. */
export interface Receipt {
  user_id: string;
  username: string;
  seq: number;
}

/** Everyone but the reader and the author who has read up to the last message, by name. */
export function seenBy(receipts: Iterable<Receipt>, last: { seq: number; user_id: string } | null, selfId: string): string[] {
  if (!last) return [];
  return [...receipts]
    .filter((r) => r.seq >= last.seq && r.user_id !== selfId && r.user_id !== last.user_id)
    .map((r) => r.username)
    .sort((a, b) => a.localeCompare(b));
}

/** "Seen by alice, bob and 3 others", or '' for nobody. */
export function seenText(names: string[]): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, 3);
  const more = names.length - shown.length;
  if (more > 0) return `Seen by ${shown.join(', ')} and ${more} ${more === 1 ? 'other' : 'others'}`;
  return `Seen by ${shown.join(', ')}`;
}

/**
 * Sends read positions at most once per `intervalMs`: the first move at once, then the
 * furthest of those that came meanwhile when the interval ends. Positions only go forward.
 */
export class ReadMarker {
  private sent = 0;
  private wanted = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly send: (seq: number) => void,
    private readonly intervalMs = 1_000,
  ) {}

  mark(seq: number) {
    if (seq <= this.wanted) return;
    this.wanted = seq;
    if (this.timer === null) this.flush();
  }

  /** Sends what is wanted now (a page that is going away). */
  stop() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.wanted > this.sent) this.send((this.sent = this.wanted));
  }

  private flush() {
    if (this.wanted <= this.sent) {
      this.timer = null;
      return;
    }
    this.sent = this.wanted;
    this.send(this.sent);
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }
}
