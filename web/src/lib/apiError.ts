/** What a failed API call throws, and how its answer becomes one readable line. */

import { str } from './fields';

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
