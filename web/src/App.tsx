import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createApi } from './lib/api';
import { SESSION_ENDED } from './lib/reconnect';
import { SessionGuard } from './lib/session';
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

/** What the account menu can do with the session. */
export interface SessionActions {
  /** Ends the session on the server (or every session of the user), then here; throws when the
   * server could not be told, except that a token already ended is simply forgotten. */
  logout: (everywhere: boolean) => Promise<void>;
  /** Changes the password and goes on with the fresh token it answers; throws the server's refusal. */
  changePassword: (currentPassword: string, newPassword: string) => Promise<void>;
  /** The server refused this token (a socket closed with 4001): back to the login screen. */
  sessionEnded: (token: string) => void;
}

export function App() {
  const [session, setSession] = useState<Session | null>(() => sessionFrom(loadToken()));
  const [notice, setNotice] = useState<string | null>(null);
  const tokenRef = useRef<string | null>(session?.token ?? null);
  tokenRef.current = session?.token ?? null;

  const forget = useCallback((why?: string) => {
    clearToken();
    tokenRef.current = null;
    setSession(null);
    setNotice(why ?? null);
    navigate('/');
  }, []);

  const guard = useMemo(() => new SessionGuard(() => tokenRef.current, () => forget(SESSION_ENDED)), [forget]);

  const api = useMemo(
    () =>
      createApi({
        getToken: () => tokenRef.current,
        onUnauthorized: (token) => void guard.refused(token),
      }),
    [guard],
  );

  const login = useCallback((token: string) => {
    const s = sessionFrom(token);
    if (!s) throw new Error('The server returned a token this client cannot read');
    saveToken(token);
    tokenRef.current = token;
    setNotice(null);
    setSession(s);
  }, []);

  const actions = useMemo<SessionActions>(
    () => ({
      async logout(everywhere) {
        await (everywhere ? api.logoutEverywhere() : api.logout());
        forget();
      },
      async changePassword(currentPassword, newPassword) {
        await guard.renew(api.changePassword(currentPassword, newPassword), login);
      },
      sessionEnded: (token) => void guard.refused(token),
    }),
    [api, forget, guard, login],
  );

  // Log out when the token expires while the page is open.
  useEffect(() => {
    if (!session) return;
    const c = readClaims(session.token);
    if (!c?.exp) return;
    const ms = c.exp * 1000 - Date.now();
    const id = window.setTimeout(
      () => forget('Your session has expired. Please log in again.'),
      Math.max(0, Math.min(ms, 2 ** 31 - 1)),
    );
    return () => window.clearTimeout(id);
  }, [session, forget]);

  // Another tab logged in or out, or changed the password (the same user, a new token).
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
  // Keyed by the user, not the token: a new token of the same user keeps the screen, and the
  // rooms' streams open again with it.
  return <Shell key={session.username} api={api} session={session} actions={actions} />;
}
