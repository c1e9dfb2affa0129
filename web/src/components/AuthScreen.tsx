import { useId, useRef, useState, type FormEvent } from 'react';
import { errorMessage, type Api } from '../lib/api';
import { validateCredentials } from '../lib/validate';
import { Logo } from './Icons';

interface Props {
  api: Api;
  onLoggedIn: (token: string) => void;
  notice: string | null;
}

export function AuthScreen({ api, onLoggedIn, notice }: Props) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState<null | 'login' | 'register'>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(notice);
  const userRef = useRef<HTMLInputElement>(null);
  const ids = { user: useId(), pass: useId(), hint: useId() };

  async function run(kind: 'login' | 'register') {
    if (busy) return;
    setError(null);
    setInfo(null);
    const name = username.trim();
    if (kind === 'register') {
      const problem = validateCredentials(name, password);
      if (problem) {
        setError(problem);
        return;
      }
    } else if (!name || !password) {
      setError('Enter your username and password.');
      (name ? null : userRef.current)?.focus();
      return;
    }
    setBusy(kind);
    try {
      if (kind === 'register') await api.register(name, password);
      const token = await api.login(name, password);
      onLoggedIn(token);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(null);
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void run('login');
  }

  return (
    <main className="auth">
      <div className="auth-card">
        <div className="auth-brand">
          <Logo />
          <span>Chat</span>
        </div>
        <h1>Welcome</h1>
        <p className="muted">Log in to your account, or register a new one with the same form.</p>
        <form onSubmit={onSubmit} noValidate aria-label="Log in or register">
          <div className="field">
            <label htmlFor={ids.user}>Username</label>
            <input
              id={ids.user}
              ref={userRef}
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              autoFocus
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={ids.pass}>Password</label>
            <input
              id={ids.pass}
              name="password"
              type="password"
              autoComplete="current-password"
              aria-describedby={ids.hint}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <p id={ids.hint} className="hint">
              New accounts: username of 3–32 letters, digits, “_”, “.” or “-”; password of at least 8 characters.
            </p>
          </div>
          {error && (
            <p className="alert alert-error" role="alert">
              {error}
            </p>
          )}
          {info && !error && (
            <p className="alert alert-info" role="status">
              {info}
            </p>
          )}
          <div className="auth-actions">
            <button type="submit" className="btn btn-primary" disabled={busy !== null}>
              {busy === 'login' ? <span className="spinner" aria-hidden="true" /> : null}
              Log in
            </button>
            <button type="button" className="btn btn-secondary" disabled={busy !== null} onClick={() => void run('register')}>
              {busy === 'register' ? <span className="spinner" aria-hidden="true" /> : null}
              Register
            </button>
          </div>
        </form>
      </div>
    </main>
  );
}
