/** A small fetch wrapper for the chat API. Every call is same-origin and
 * relative; every failure becomes an ApiError carrying the server's `detail`. Its request and
 * answer types come from `api-types.ts`, generated from openapi/openapi.json (`npm run generate`
 * in web/api-gen). */

import type { components } from './api-types';
import { ApiError, errorFromResponse } from './apiError';
import { asNumberOrNull, str } from './fields';
import { normalizeMessage, type Message } from './messageShape';
import { readStateOf, type ReadState } from './reads';
import { normalizeSearchPage, type SearchPage } from './search';

export { ApiError, detailText, errorFromResponse, errorMessage, isNotFound } from './apiError';
export { normalizeMessage, type Mention, type Message, type Reaction } from './messageShape';

type Schemas = components['schemas'];

/** A registered user, as `POST /auth/register` answers. */
export type User = Schemas['RegisteredUser'];

type RoomView = Schemas['RoomView'];
type MemberView = Schemas['MemberView'];

/** A room as the client keeps it: the server's, with what an answer may leave out (a room made
 * from a `POST /rooms/` answer has no counts yet) made explicit as null. */
export type Room = Pick<RoomView, 'id' | 'name' | 'is_private' | 'kind'> & {
  [K in 'created_by' | 'created_at' | 'member_count' | 'last_seq']: RoomView[K] | null;
} & {
  /** null when the server did not say. */
  is_member: boolean | null;
};

type RegisterRequest = Schemas['RegisterRequest'];
type LoginRequest = Schemas['LoginRequest'];
type CreateRoomRequest = Schemas['CreateRoomRequest'];
type JoinRoomRequest = Schemas['JoinRoomRequest'];
type AccessToken = Schemas['AccessToken'];
type RoomMessage = Schemas['RoomMessage'];
type DirectRoom = Schemas['DirectRoom'];
type ChangePasswordRequest = Schemas['ChangePasswordRequest'];
type SocketTicketAnswer = Schemas['SocketTicketAnswer'];
type PostMessageRequest = Schemas['PostMessageRequest'];
type EditMessageRequest = Schemas['EditMessageRequest'];
type MarkReadRequest = Schemas['MarkReadRequest'];

/** A room from any of the server's room shapes, with missing fields made explicit. */
export function normalizeRoom(raw: unknown): Room | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  const id = str(o.id);
  const name = str(o.name);
  if (id === null || name === null) return null;
  return {
    id,
    name,
    is_private: o.is_private === true,
    // The seed's answers have no kind: theirs are all named rooms.
    kind: o.kind === 'direct' ? 'direct' : 'room',
    created_by: str(o.created_by),
    created_at: str(o.created_at),
    member_count: asNumberOrNull(o.member_count),
    last_seq: asNumberOrNull(o.last_seq),
    is_member: typeof o.is_member === 'boolean' ? o.is_member : null,
  };
}

/** A member of a room, as `GET /rooms/{id}/members` lists them. */
export type Member = Pick<MemberView, 'user_id' | 'username'> & {
  role: MemberView['role'] | null;
  /** How far they read the room; shown to its members only. */
  last_read_seq: number | null;
};

function normalizeMember(raw: unknown): Member | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  const userId = str(o.user_id);
  const username = str(o.username);
  if (userId === null || username === null) return null;
  const role = o.role === 'owner' || o.role === 'member' ? o.role : null;
  return { user_id: userId, username, role, last_read_seq: asNumberOrNull(o.last_read_seq) };
}

const messagePath = (roomId: string, messageId: string) =>
  `/rooms/${encodeURIComponent(roomId)}/messages/${encodeURIComponent(messageId)}`;

function message(raw: unknown, roomId: string): Message {
  const m = normalizeMessage(raw, roomId);
  if (!m) throw new ApiError(200, 'The server sent an unexpected answer', 'bad_response');
  return m;
}

export interface ApiOptions {
  fetch?: typeof fetch;
  getToken?: () => string | null;
  /** Called with the token a request carried when it is answered 401 (that token is no longer good). */
  onUnauthorized?: (token: string) => void;
}

type Body = { json: unknown } | { form: Record<string, string> } | undefined;

/** How a request authenticates: not at all, with the token, or with the token it ends (log out),
 * when a 401 only says that the token had already ended. */
type Auth = 'none' | 'token' | 'ending';

export function createApi(opts: ApiOptions = {}) {
  const doFetch: typeof fetch = opts.fetch ?? ((...a) => globalThis.fetch(...a));

  async function request(method: string, path: string, body?: Body, auth: Auth = 'token'): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = auth === 'none' ? null : opts.getToken?.() ?? null;
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body && 'json' in body) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body && 'form' in body) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(body.form).toString();
    }
    let res: Response;
    try {
      res = await doFetch(path, { method, headers, body: payload });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.', 'network_error');
    }
    if (!res.ok) {
      const err = await errorFromResponse(res);
      if (res.status === 401 && token && auth === 'token') opts.onUnauthorized?.(token);
      throw err;
    }
    return res;
  }

  async function json<T = unknown>(method: string, path: string, body?: Body, auth: Auth = 'token'): Promise<T> {
    const res = await request(method, path, body, auth);
    const text = await res.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, 'The server sent an answer that is not JSON', 'bad_response');
    }
  }

  function accessToken(r: Partial<AccessToken> | undefined): string {
    if (!r || typeof r.access_token !== 'string') {
      throw new ApiError(200, 'The server did not return a token', 'bad_response');
    }
    return r.access_token;
  }

  async function endSession(path: string): Promise<boolean> {
    try {
      await request('POST', path, undefined, 'ending');
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return false;
      throw e;
    }
  }

  function arrayOf<T>(v: unknown, f: (x: unknown) => T | null): T[] {
    if (!Array.isArray(v)) throw new ApiError(200, 'The server sent an unexpected answer', 'bad_response');
    return v.map(f).filter((x): x is T => x !== null);
  }

  return {
    async register(username: string, password: string): Promise<User> {
      const body: RegisterRequest = { username, password };
      return json<User>('POST', '/auth/register', { json: body }, 'none');
    },
    async login(username: string, password: string): Promise<string> {
      const form: LoginRequest = { username, password };
      const r = await json<Partial<AccessToken> | undefined>('POST', '/auth/login', { form }, 'none');
      return accessToken(r);
    },
    /** Ends this token's session: true, or false when it had already ended (answered 401). */
    async logout(): Promise<boolean> {
      return endSession('/auth/logout');
    },
    /** Ends every session of the user, this one included: as `logout`. */
    async logoutEverywhere(): Promise<boolean> {
      return endSession('/auth/logout-all');
    },
    /** Changes the password; answers the fresh token, the only one of the user's that still works. */
    async changePassword(currentPassword: string, newPassword: string): Promise<string> {
      const body: ChangePasswordRequest = { current_password: currentPassword, new_password: newPassword };
      return accessToken(await json<Partial<AccessToken> | undefined>('POST', '/users/me/password', { json: body }));
    },
    /** A single-use ticket that opens one socket on behalf of the current token. */
    async socketTicket(): Promise<string> {
      const r = await json<Partial<SocketTicketAnswer> | undefined>('POST', '/auth/ws-ticket');
      if (!r || typeof r.ticket !== 'string' || r.ticket === '') {
        throw new ApiError(200, 'The server did not return a socket ticket', 'bad_response');
      }
      return r.ticket;
    },
    async listRooms(): Promise<Room[]> {
      return arrayOf(await json('GET', '/rooms/'), normalizeRoom);
    },
    /** The user's rooms, and how far they read each. */
    async myRooms(): Promise<{ rooms: Room[]; reads: Map<string, ReadState> }> {
      const raw = await json('GET', '/users/me/rooms');
      return { rooms: arrayOf(raw, normalizeRoom), reads: new Map(arrayOf(raw, readStateOf)) };
    },
    /** Marks the room read up to `seq` (the server ignores a move backwards). */
    async markRead(roomId: string, seq: number): Promise<void> {
      const body: MarkReadRequest = { seq };
      await request('POST', `/rooms/${encodeURIComponent(roomId)}/read`, { json: body });
    },
    async createRoom(name: string, isPrivate: boolean, password?: string): Promise<Room> {
      const body: CreateRoomRequest = { name, is_private: isPrivate };
      if (password) body.password = password;
      const room = normalizeRoom(await json('POST', '/rooms/', { json: body }));
      if (!room) throw new ApiError(200, 'The server sent an unexpected answer', 'bad_response');
      return room;
    },
    /** The id of the caller's direct room with `username` (any letter case), opened if new. */
    async openDirect(username: string): Promise<string> {
      const r = await json<Partial<DirectRoom> | undefined>('POST', `/users/${encodeURIComponent(username.trim())}/dm`);
      if (!r || typeof r.room_id !== 'string') throw new ApiError(200, 'The server sent an unexpected answer', 'bad_response');
      return r.room_id;
    },
    async joinRoom(roomId: string, password?: string): Promise<string> {
      const body: JoinRoomRequest = {};
      if (password) body.password = password;
      const r = await json<Partial<RoomMessage> | undefined>('POST', `/rooms/${encodeURIComponent(roomId)}/join`, {
        json: body,
      });
      return r && typeof r.message === 'string' ? r.message : 'Joined';
    },
    async leaveRoom(roomId: string): Promise<void> {
      await json('POST', `/rooms/${encodeURIComponent(roomId)}/leave`, { json: {} });
    },
    /** One page of history, returned OLDEST FIRST (the server sends newest first). */
    async messages(roomId: string, opts2: { limit?: number; beforeSeq?: number | null } = {}): Promise<Message[]> {
      const q = new URLSearchParams({ limit: String(opts2.limit ?? 50) });
      if (opts2.beforeSeq !== undefined && opts2.beforeSeq !== null) q.set('before_seq', String(opts2.beforeSeq));
      const list = arrayOf(await json('GET', `/rooms/${encodeURIComponent(roomId)}/messages?${q}`), (m) =>
        normalizeMessage(m, roomId),
      );
      return list.reverse();
    },
    /** The room's owner and members (owner first). */
    async members(roomId: string): Promise<Member[]> {
      return arrayOf(await json('GET', `/rooms/${encodeURIComponent(roomId)}/members`), normalizeMember);
    },
    /** Posts a message over HTTP (the thread's replies go this way); answers it as stored. */
    async postMessage(roomId: string, content: string, opts2: { replyTo?: string; clientMsgId?: string } = {}): Promise<Message> {
      const body: PostMessageRequest = { content };
      if (opts2.replyTo) body.reply_to = opts2.replyTo;
      if (opts2.clientMsgId) body.client_msg_id = opts2.clientMsgId;
      return message(await json('POST', `/rooms/${encodeURIComponent(roomId)}/messages`, { json: body }), roomId);
    },
    /** Replaces the text of one's own message; answers the message as edited. */
    async editMessage(roomId: string, messageId: string, content: string): Promise<Message> {
      const body: EditMessageRequest = { content };
      return message(await json('PATCH', messagePath(roomId, messageId), { json: body }), roomId);
    },
    async deleteMessage(roomId: string, messageId: string): Promise<void> {
      await request('DELETE', messagePath(roomId, messageId));
    },
    /** Adds (`on`) or takes back the caller's reaction; both are idempotent. */
    async react(roomId: string, messageId: string, emoji: string, on: boolean): Promise<void> {
      await request(on ? 'PUT' : 'DELETE', `${messagePath(roomId, messageId)}/reactions/${encodeURIComponent(emoji)}`);
    },
    /** One page of the messages the caller may read that match `q` (web-search syntax), best first. */
    async searchMessages(q: string, opts2: { roomId?: string; limit?: number; cursor?: string | null } = {}): Promise<SearchPage> {
      const params = new URLSearchParams({ q, limit: String(opts2.limit ?? 20) });
      if (opts2.roomId) params.set('room_id', opts2.roomId);
      if (opts2.cursor) params.set('cursor', opts2.cursor);
      const page = normalizeSearchPage(await json('GET', `/search/messages?${params}`));
      if (!page) throw new ApiError(200, 'The server sent an unexpected answer', 'bad_response');
      return page;
    },
    /** One page of a thread's replies, oldest first, after `afterSeq`. */
    async replies(roomId: string, messageId: string, opts2: { limit?: number; afterSeq?: number | null } = {}): Promise<Message[]> {
      const q = new URLSearchParams({ limit: String(opts2.limit ?? 100) });
      if (opts2.afterSeq !== undefined && opts2.afterSeq !== null) q.set('after_seq', String(opts2.afterSeq));
      return arrayOf(await json('GET', `${messagePath(roomId, messageId)}/replies?${q}`), (m) => normalizeMessage(m, roomId));
    },
  };
}

export type Api = ReturnType<typeof createApi>;