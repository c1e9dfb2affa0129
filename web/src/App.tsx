import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createApi } from './lib/api';
import { clearToken, isExpired, loadToken, readClaims, saveToken } from './lib/token';
import { AuthScreen } from './components/AuthScreen';
import { Shell } from './components/Shell';
import { navigate } from './router';

export interface Session {
  token: string;
  username: string;
  userId: string;
}

function sessionFrom(token: string | null): Session | null {
  if (!token) return null;
  const c = readClaims(token);
  if (!c || isExpired(c)) return null;
  return { token, username: c.username, userId: c.userId ?? '' };
}

export function App() {
  const [session, setSession] = useState<Session | null>(() => sessionFrom(loadToken()));
  const [notice, setNotice] = useState<string | null>(null);
  const tokenRef = useRef<string | null>(session?.token ?? null);
  tokenRef.current = session?.token ?? null;

  const logout = useCallback((why?: string) => {
    clearToken();
    tokenRef.current = null;
    setSession(null);
    setNotice(why ?? null);
    navigate('/');
  }, []);

  const api = useMemo(
    () =>
      createApi({
        getToken: () => tokenRef.current,
        onUnauthorized: () => logout('Your session has expired. Please log in again.'),
      }),
    [logout],
  );

  const login = useCallback((token: string) => {
    const s = sessionFrom(token);
    if (!s) throw new Error('The server returned a token this client cannot read');
    saveToken(token);
    tokenRef.current = token;
    setNotice(null);
    setSession(s);
  }, []);

  // Log out when the token expires while the page is open.
  useEffect(() => {
    if (!session) return;
    const c = readClaims(session.token);
    if (!c?.exp) return;
    const ms = c.exp * 1000 - Date.now();
    const id = window.setTimeout(
      () => logout('Your session has expired. Please log in again.'),
      Math.max(0, Math.min(ms, 2 ** 31 - 1)),
    );
    return () => window.clearTimeout(id);
  }, [session, logout]);

  // Another tab logged in or out.
  useEffect(() => {
    const on = (e: StorageEvent) => {
      if (e.key !== null && e.key !== 'token') return;
      const s = sessionFrom(loadToken());
      setSession((cur) => (cur?.token === s?.token ? cur : s));
    };
    window.addEventListener('storage', on);
    return () => window.removeEventListener('storage', on);
  }, []);

  if (!session) return <AuthScreen api={api} onLoggedIn={login} notice={notice} />;
  return <Shell key={session.token} api={api} session={session} onLogout={logout} />;
}
