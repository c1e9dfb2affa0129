/** JWT helpers. The client never verifies a token: it only reads the payload
 * to show who is signed in (`sub` is the username, `uid` the user id). */

export interface TokenClaims {
  /** The username (`sub`). */
  username: string;
  /** The user id (`uid`), if the server put one in. */
  userId: string | null;
  /** Expiry in seconds since the epoch (`exp`), if any. */
  exp: number | null;
}

export const TOKEN_KEY = 'token';

function base64UrlDecode(input: string): string {
  let b64 = input.replace(/-/g, '+').replace(/_/g, '/');
  const pad = b64.length % 4;
  if (pad === 1) throw new Error('invalid base64url');
  if (pad) b64 += '='.repeat(4 - pad);
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

/** The raw payload object of a JWT, or null when it is not a decodable JWT. */
export function decodeJwtPayload(token: string): Record<string, unknown> | null {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const payload: unknown = JSON.parse(base64UrlDecode(parts[1]));
    if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
      return payload as Record<string, unknown>;
    }
    return null;
  } catch {
    return null;
  }
}

/** The claims this client uses, or null when the token has no usable `sub`. */
export function readClaims(token: string): TokenClaims | null {
  const p = decodeJwtPayload(token);
  if (!p) return null;
  const sub = p.sub;
  if (typeof sub !== 'string' || sub === '') return null;
  const uid = p.uid;
  const exp = p.exp;
  return {
    username: sub,
    userId: typeof uid === 'string' || typeof uid === 'number' ? String(uid) : null,
    exp: typeof exp === 'number' && Number.isFinite(exp) ? exp : null,
  };
}

/** True when the token carries an `exp` that is already past (with a small skew allowance). */
export function isExpired(claims: TokenClaims, nowMs: number = Date.now(), skewSec = 5): boolean {
  if (claims.exp === null) return false;
  return claims.exp + skewSec <= nowMs / 1000;
}

interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function defaultStore(): KeyValueStore | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** The stored token if it is still usable; a stale or garbled one is removed. */
export function loadToken(store: KeyValueStore | null = defaultStore(), nowMs = Date.now()): string | null {
  if (!store) return null;
  const t = store.getItem(TOKEN_KEY);
  if (!t) return null;
  const claims = readClaims(t);
  if (!claims || isExpired(claims, nowMs)) {
    store.removeItem(TOKEN_KEY);
    return null;
  }
  return t;
}

export function saveToken(token: string, store: KeyValueStore | null = defaultStore()): void {
  store?.setItem(TOKEN_KEY, token);
}

export function clearToken(store: KeyValueStore | null = defaultStore()): void {
  store?.removeItem(TOKEN_KEY);
}
