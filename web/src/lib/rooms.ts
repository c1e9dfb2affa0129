/** Pure helpers for the room list. */

import type { Room } from './api';

/** Fills each room's `is_member` from the user's own room list when the server
 * left it out, and applies memberships this client just gained or lost. */
export function withMembership(
  rooms: Room[],
  mine: Set<string> | null,
  overrides: ReadonlyMap<string, boolean> = new Map(),
): Room[] {
  return rooms.map((r) => {
    const o = overrides.get(r.id);
    if (o !== undefined) return r.is_member === o ? r : { ...r, is_member: o };
    if (r.is_member !== null) return r;
    if (mine) return { ...r, is_member: mine.has(r.id) };
    return r;
  });
}

/** Rooms split for the sidebar: direct messages, the user's own rooms, then the rest, each by
 * name. */
export function groupRooms(rooms: Room[]): { direct: Room[]; mine: Room[]; other: Room[] } {
  const byName = (a: Room, b: Room) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
  const named = rooms.filter((r) => r.kind !== 'direct');
  return {
    direct: rooms.filter((r) => r.kind === 'direct').sort(byName),
    mine: named.filter((r) => r.is_member === true).sort(byName),
    other: named.filter((r) => r.is_member !== true).sort(byName),
  };
}

/** The named rooms everyone sees, and the caller's direct rooms, which only the caller's own
 * list holds. */
export function withDirectRooms(listed: Room[], own: Room[] | null): Room[] {
  if (!own) return listed;
  const known = new Set(listed.map((r) => r.id));
  return [...listed, ...own.filter((r) => r.kind === 'direct' && !known.has(r.id))];
}

export function filterRooms(rooms: Room[], q: string): Room[] {
  const t = q.trim().toLowerCase();
  if (!t) return rooms;
  return rooms.filter((r) => r.name.toLowerCase().includes(t));
}

export function roomMeta(r: Room): string {
  if (r.kind === 'direct') return 'Direct message';
  const parts: string[] = [r.is_private ? 'Private' : 'Public'];
  if (r.member_count !== null) parts.push(`${r.member_count} ${r.member_count === 1 ? 'member' : 'members'}`);
  if (r.is_member === false) parts.push('not joined');
  return parts.join(' · ');
}

/** The rooms whose listed `last_seq` is still behind a seq this client has seen live (the
 * read tables lag the socket a little): what a later refresh should still catch up on. */
export function behindRooms(rooms: Room[], wanted: ReadonlyMap<string, number>): Map<string, number> {
  const listed = new Map(rooms.map((r) => [r.id, r.last_seq]));
  const behind = new Map<string, number>();
  for (const [id, seq] of wanted) {
    const last = listed.get(id);
    // A room the list does not show yet is behind too; one without last_seq cannot tell.
    if (last === undefined || (last !== null && last < seq)) behind.set(id, seq);
  }
  return behind;
}
