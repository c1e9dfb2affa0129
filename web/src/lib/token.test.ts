import { describe, expect, it } from 'vitest';
import { clearToken, decodeJwtPayload, isExpired, loadToken, readClaims, saveToken, TOKEN_KEY } from './token';

function b64url(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function jwt(payload: object): string {
  return `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}.sig`;
}

class MemStore {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

describe('decodeJwtPayload', () => {
  it('reads the payload of a JWT', () => {
    expect(decodeJwtPayload(jwt({ sub: 'alice', uid: 'u-1', exp: 42 }))).toEqual({ sub: 'alice', uid: 'u-1', exp: 42 });
  });

  it('handles base64url characters and non-ASCII text', () => {
    // "ÿÿ?>" style payloads produce '-' and '_' in base64url.
    const payload = { sub: 'zoë_ü', note: '???>>>ÿÿÿ' };
    const t = jwt(payload);
    expect(t.split('.')[1]).toMatch(/[-_]/);
    expect(decodeJwtPayload(t)).toEqual(payload);
  });

  it('returns null for things that are not JWTs', () => {
    expect(decodeJwtPayload('')).toBeNull();
    expect(decodeJwtPayload('abc')).toBeNull();
    expect(decodeJwtPayload('a.b')).toBeNull();
    expect(decodeJwtPayload('a.!!!.c')).toBeNull();
    expect(decodeJwtPayload(`x.${b64url('[1,2]')}.y`)).toBeNull();
    expect(decodeJwtPayload(`x.${b64url('not json')}.y`)).toBeNull();
  });
});

describe('readClaims', () => {
  it('maps sub to the username and uid to the user id', () => {
    expect(readClaims(jwt({ sub: 'bob', uid: '7f0c', exp: 100 }))).toEqual({ username: 'bob', userId: '7f0c', exp: 100 });
  });

  it('accepts a numeric uid and a missing exp', () => {
    expect(readClaims(jwt({ sub: 'bob', uid: 7 }))).toEqual({ username: 'bob', userId: '7', exp: null });
  });

  it('needs a sub', () => {
    expect(readClaims(jwt({ uid: 'x' }))).toBeNull();
    expect(readClaims(jwt({ sub: '' }))).toBeNull();
  });
});

describe('isExpired', () => {
  it('compares exp (seconds) with now (ms)', () => {
    const c = { username: 'a', userId: null, exp: 1000 };
    expect(isExpired(c, 900_000)).toBe(false);
    expect(isExpired(c, 1_010_000)).toBe(true);
    expect(isExpired({ ...c, exp: null }, 9e15)).toBe(false);
  });
});

describe('token storage', () => {
  it('saves, loads and clears the token', () => {
    const s = new MemStore();
    const t = jwt({ sub: 'a', exp: 2000 });
    saveToken(t, s);
    expect(s.getItem(TOKEN_KEY)).toBe(t);
    expect(loadToken(s, 1_000_000)).toBe(t);
    clearToken(s);
    expect(loadToken(s, 1_000_000)).toBeNull();
  });

  it('drops an expired or unreadable token on load', () => {
    const s = new MemStore();
    saveToken(jwt({ sub: 'a', exp: 10 }), s);
    expect(loadToken(s, 1_000_000)).toBeNull();
    expect(s.getItem(TOKEN_KEY)).toBeNull();
    s.setItem(TOKEN_KEY, 'garbage');
    expect(loadToken(s)).toBeNull();
    expect(s.getItem(TOKEN_KEY)).toBeNull();
  });

  it('works without storage', () => {
    expect(loadToken(null)).toBeNull();
    expect(() => saveToken('x', null)).not.toThrow();
  });
});
