import { describe, expect, it } from 'vitest';
import type { Room } from './api';
import { differentDay, formatDay, nameList } from './format';
import { behindRooms, filterRooms, groupRooms, roomMeta, withDirectRooms, withMembership } from './rooms';
import { parseRoute, roomPath } from './route';
import { validateCredentials, validateMessage, validateRoomName } from './validate';

const room = (id: string, name: string, extra: Partial<Room> = {}): Room => ({
  id,
  name,
  is_private: false,
  kind: 'room',
  created_by: null,
  created_at: null,
  member_count: null,
  last_seq: null,
  is_member: null,
  ...extra,
});

describe('routes', () => {
  it('parses / and /room/:id', () => {
    expect(parseRoute('/')).toEqual({ name: 'home' });
    expect(parseRoute('')).toEqual({ name: 'home' });
    expect(parseRoute('/room/abc-123')).toEqual({ name: 'room', roomId: 'abc-123' });
    expect(parseRoute('/room/abc/')).toEqual({ name: 'room', roomId: 'abc' });
    expect(parseRoute('/room/a%20b')).toEqual({ name: 'room', roomId: 'a b' });
    expect(parseRoute('/room/')).toMatchObject({ name: 'notFound' });
    expect(parseRoute('/room/%E0%A4%A')).toMatchObject({ name: 'notFound' });
    expect(parseRoute('/elsewhere')).toMatchObject({ name: 'notFound' });
  });

  it('never produces a path under an API prefix', () => {
    const p = roomPath('x/y');
    expect(p).toBe('/room/x%2Fy');
    for (const api of ['/auth/', '/rooms/', '/users/', '/audit/', '/ws/', '/docs', '/openapi.json']) {
      expect(p.startsWith(api)).toBe(false);
    }
    expect(parseRoute(p)).toEqual({ name: 'room', roomId: 'x/y' });
  });
});

describe('rooms', () => {
  it('fills membership from the own-rooms list only when the server left it out', () => {
    const rooms = [room('a', 'A'), room('b', 'B', { is_member: false }), room('c', 'C')];
    const out = withMembership(rooms, new Set(['a', 'b']));
    expect(out.map((r) => r.is_member)).toEqual([true, false, false]);
    expect(withMembership(rooms, null).map((r) => r.is_member)).toEqual([null, false, null]);
    expect(withMembership(rooms, null, new Map([['b', true]]))[1]!.is_member).toBe(true);
  });

  it('groups own rooms first, each sorted by name', () => {
    const g = groupRooms([room('1', 'zeta', { is_member: true }), room('2', 'Alpha'), room('3', 'beta', { is_member: true })]);
    expect(g.mine.map((r) => r.name)).toEqual(['beta', 'zeta']);
    expect(g.other.map((r) => r.name)).toEqual(['Alpha']);
    expect(g.direct).toEqual([]);
  });

  it('keeps direct messages apart, and takes them from the own list only', () => {
    const dm = room('d', 'bob', { kind: 'direct', is_private: true, is_member: true, member_count: 2 });
    const lobby = room('1', 'lobby', { is_member: true });
    const all = withDirectRooms([lobby], [lobby, dm]);
    expect(all.map((r) => r.id)).toEqual(['1', 'd']);
    expect(withDirectRooms([lobby], null)).toEqual([lobby]);
    const g = groupRooms(all);
    expect(g.direct.map((r) => r.name)).toEqual(['bob']);
    expect(g.mine.map((r) => r.name)).toEqual(['lobby']);
    expect(roomMeta(dm)).toBe('Direct message');
  });

  it('filters by name and describes a room', () => {
    expect(filterRooms([room('1', 'General'), room('2', 'random')], 'gen').map((r) => r.id)).toEqual(['1']);
    expect(filterRooms([room('1', 'x')], '  ')).toHaveLength(1);
    expect(roomMeta(room('1', 'x', { is_private: true, member_count: 1, is_member: false }))).toBe('Private · 1 member · not joined');
    expect(roomMeta(room('1', 'x', { member_count: 3 }))).toBe('Public · 3 members');
  });
});

describe('validation', () => {
  it('checks usernames and passwords like the server', () => {
    expect(validateCredentials('al', 'password1')).toMatch(/3 to 32/);
    expect(validateCredentials('a'.repeat(33), 'password1')).toMatch(/3 to 32/);
    expect(validateCredentials('bad name', 'password1')).toMatch(/only letters/);
    expect(validateCredentials('good.name-1_', 'short')).toMatch(/at least 8/);
    expect(validateCredentials('good', 'é'.repeat(37))).toMatch(/72 bytes/); // 74 bytes
    expect(validateCredentials('good', 'é'.repeat(36))).toBeNull(); // 72 bytes
    expect(validateCredentials('', 'password1')).toMatch(/Choose/);
  });

  it('checks messages and room names', () => {
    expect(validateMessage('   ')).not.toBeNull();
    expect(validateMessage('hi')).toBeNull();
    expect(validateMessage('x'.repeat(70_000))).toMatch(/too long/);
    expect(validateRoomName(' ')).not.toBeNull();
    expect(validateRoomName('lobby')).toBeNull();
  });
});

describe('format', () => {
  it('labels days relative to now', () => {
    const now = new Date(2025, 5, 10, 15, 0);
    expect(formatDay(new Date(2025, 5, 10, 1, 0).toISOString(), now)).toBe('Today');
    expect(formatDay(new Date(2025, 5, 9, 23, 0).toISOString(), now)).toBe('Yesterday');
    expect(formatDay('nonsense', now)).toBe('');
    expect(differentDay(undefined, new Date().toISOString())).toBe(true);
    expect(differentDay(new Date(2025, 0, 1, 1).toISOString(), new Date(2025, 0, 1, 23).toISOString())).toBe(false);
    expect(differentDay(new Date(2025, 0, 1, 23).toISOString(), new Date(2025, 0, 2, 1).toISOString())).toBe(true);
  });

  it('lists names', () => {
    expect(nameList([])).toBe('');
    expect(nameList(['a'])).toBe('a');
    expect(nameList(['a', 'b'])).toBe('a and b');
    expect(nameList(['a', 'b', 'c'])).toBe('a, b and c');
    expect(nameList(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c and 2 more');
  });
});

describe('behindRooms', () => {
  it('keeps the rooms whose listed last_seq has not reached what the socket showed', () => {
    const list = [room('a', 'a', { last_seq: 5 }), room('b', 'b', { last_seq: 9 }), room('c', 'c')];
    const wanted = new Map([
      ['a', 6],
      ['b', 9],
      ['c', 3],
      ['gone', 2],
    ]);
    expect(behindRooms(list, wanted)).toEqual(
      new Map([
        ['a', 6],
        ['gone', 2],
      ]),
    );
    expect(behindRooms(list, new Map()).size).toBe(0);
  });
});
