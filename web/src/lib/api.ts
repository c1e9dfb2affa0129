/** A small fetch wrapper for the chat API. Every call is same-origin and
 * relative; every failure becomes an ApiError carrying the server's `detail`. Its request and
 * answer types come from `api-types.ts`, generated from openapi/openapi.json (`npm run generate`
 * in web/api-gen). */

import type { components } from './api-types';

export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  readonly code: string | null;
  /** Seconds from a 429's Retry-After header, when given. */
  readonly retryAfter: number | null;

  constructor(status: number, detail: string, code: string | null = null, retryAfter: number | null = null) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

type Schemas = components['schemas'];

/** A registered user, as `POST /auth/register` answers. */
export type User = Schemas['RegisteredUser'];

type RoomView = Schemas['RoomView'];

/** A room as the client keeps it: the server's, with what an answer may leave out (a room made
 * from a `POST /rooms/` answer has no counts yet) made explicit as null. */
export type Room = Pick<RoomView, 'id' | 'name' | 'is_private'> & {
  [K in 'created_by' | 'created_at' | 'member_count' | 'last_seq']: RoomView[K] | null;
} & {
  /** null when the server did not say. */
  is_member: boolean | null;
};

/** A message as history serves it and the socket's message frames carry it; `seq` is null only
 * for a frame that came without one. */
export type Message = Omit<Schemas['MessageView'], 'seq'> & { seq: Schemas['MessageView']['seq'] | null };

type RegisterRequest = Schemas['RegisterRequest'];
type LoginRequest = Schemas['LoginRequest'];
type CreateRoomRequest = Schemas['CreateRoomRequest'];
type JoinRoomRequest = Schemas['JoinRoomRequest'];
type AccessToken = Schemas['AccessToken'];
type RoomMessage = Schemas['RoomMessage'];

const STATUS_TEXT: Record<number, string> = {
  400: 'The request was refused',
  401: 'You are not logged in',
  403: 'You are not allowed to do that',
  404: 'Not found',
  413: 'That is too large',
  415: 'Unsupported content type',
  422: 'Some fields are invalid',
  429: 'Too many requests',
  500: 'The server had an internal error',
  502: 'The server is unreachable (bad gateway)',
  503: 'The server is unavailable',
  504: 'The server took too long to answer',
};

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** Turns a `detail` of any shape (string, validation list, object) into one readable line. */
export function detailText(detail: unknown): string | null {
  if (typeof detail === 'string') return detail.trim() || null;
  if (Array.isArray(detail)) {
    const parts = detail
      .map((d) => {
        if (typeof d === 'string') return d;
        if (d && typeof d === 'object') {
          const o = d as Record<string, unknown>;
          const msg = str(o.msg) ?? str(o.message) ?? str(o.detail);
          const loc = Array.isArray(o.loc) ? o.loc.filter((x) => x !== 'body').join('.') : null;
          if (msg) return loc ? `${loc}: ${msg}` : msg;
        }
        return null;
      })
      .filter((x): x is string => !!x);
    return parts.length ? parts.join('; ') : null;
  }
  if (detail && typeof detail === 'object') {
    const o = detail as Record<string, unknown>;
    return str(o.msg) ?? str(o.message) ?? null;
  }
  return null;
}

function parseRetryAfter(h: string | null, nowMs = Date.now()): number | null {
  if (!h) return null;
  const n = Number(h);
  if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  const d = Date.parse(h);
  if (!Number.isNaN(d)) return Math.max(0, Math.ceil((d - nowMs) / 1000));
  return null;
}

/** Builds the ApiError for a non-2xx response. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let detail: string | null = null;
  let code: string | null = null;
  let text = '';
  try {
    text = await res.text();
  } catch {
    text = '';
  }
  if (text) {
    try {
      const body: unknown = JSON.parse(text);
      if (body && typeof body === 'object') {
        const o = body as Record<string, unknown>;
        detail = detailText(o.detail) ?? detailText(o.message) ?? detailText(o.error);
        code = str(o.code);
      }
    } catch {
      // Not JSON: a proxy's plain-text or HTML page. Use short plain text only.
      const t = text.trim();
      if (t && t.length <= 200 && !t.startsWith('<')) detail = t;
    }
  }
  const retryAfter = res.status === 429 ? parseRetryAfter(res.headers.get('Retry-After')) : null;
  if (!detail) detail = STATUS_TEXT[res.status] ?? `Request failed (HTTP ${res.status})`;
  if (retryAfter !== null && !/retry|try again/i.test(detail)) {
    detail = `${detail} (try again in ${retryAfter} s)`;
  }
  return new ApiError(res.status, detail, code, retryAfter);
}

/** Whether an API call failed because the room (or other resource) in its URL does not exist:
 * a 404, or a 422 `invalid_path` when the id is not even well-formed (a mistyped /room/ link). */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || (err.status === 422 && err.code === 'invalid_path'));
}

/** A human message for anything thrown by an API call. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong';
}

function asString(v: unknown, fallback = ''): string {
  return str(v) ?? fallback;
}

function asNumberOrNull(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

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
    created_by: str(o.created_by),
    created_at: str(o.created_at),
    member_count: asNumberOrNull(o.member_count),
    last_seq: asNumberOrNull(o.last_seq),
    is_member: typeof o.is_member === 'boolean' ? o.is_member : null,
  };
}

/** A message from the history endpoint or a WebSocket `message` frame. */
export function normalizeMessage(raw: unknown, roomId = ''): Message | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  const seq = asNumberOrNull(o.seq);
  const id = str(o.id) ?? (seq !== null ? `seq-${seq}` : null);
  if (id === null) return null;
  return {
    id,
    seq,
    room_id: asString(o.room_id, roomId),
    user_id: asString(o.user_id),
    username: asString(o.username, 'unknown'),
    content: asString(o.content),
    client_msg_id: str(o.client_msg_id),
    created_at: asString(o.created_at, new Date().toISOString()),
  };
}

export interface ApiOptions {
  fetch?: typeof fetch;
  getToken?: () => string | null;
  /** Called when a request that carried a token is answered 401 (the token is no longer good). */
  onUnauthorized?: () => void;
}

type Body = { json: unknown } | { form: Record<string, string> } | undefined;

export function createApi(opts: ApiOptions = {}) {
  const doFetch: typeof fetch = opts.fetch ?? ((...a) => globalThis.fetch(...a));

  async function request(method: string, path: string, body?: Body, auth = true): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = auth ? opts.getToken?.() ?? null : null;
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
      if (res.status === 401 && token) opts.onUnauthorized?.();
      throw err;
    }
    return res;
  }

  async function json<T = unknown>(method: string, path: string, body?: Body, auth = true): Promise<T> {
    const res = await request(method, path, body, auth);
    const text = await res.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, 'The server sent an answer that is not JSON', 'bad_response');
    }
  }

  function arrayOf<T>(v: unknown, f: (x: unknown) => T | null): T[] {
    if (!Array.isArray(v)) throw new ApiError(200, 'The server sent an unexpected answer', 'bad_response');
    return v.map(f).filter((x): x is T => x !== null);
  }

  return {
    async register(username: string, password: string): Promise<User> {
      const body: RegisterRequest = { username, password };
      return json<User>('POST', '/auth/register', { json: body }, false);
    },
    async login(username: string, password: string): Promise<string> {
      const form: LoginRequest = { username, password };
      const r = await json<Partial<AccessToken> | undefined>('POST', '/auth/login', { form }, false);
      if (!r || typeof r.access_token !== 'string') {
        throw new ApiError(200, 'The server did not return a token', 'bad_response');
      }
      return r.access_token;
    },
    async listRooms(): Promise<Room[]> {
      return arrayOf(await json('GET', '/rooms/'), normalizeRoom);
    },
    async myRooms(): Promise<Room[]> {
      return arrayOf(await json('GET', '/users/me/rooms'), normalizeRoom);
    },
    async createRoom(name: string, isPrivate: boolean, password?: string): Promise<Room> {
      const body: CreateRoomRequest = { name, is_private: isPrivate };
      if (password) body.password = password;
      const room = normalizeRoom(await json('POST', '/rooms/', { json: body }));
      if (!room) throw new ApiError(200, 'The server sent an unexpected answer', 'bad_response');
      return room;
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
  };
}

export type Api = ReturnType<typeof createApi>;
