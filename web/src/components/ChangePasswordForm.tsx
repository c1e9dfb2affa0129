import { useId, useState, type FormEvent } from 'react';
import { errorMessage } from '../lib/api';

interface Props {
  /** Changes the password (and goes on with the fresh token); throws the server's refusal. */
  onChange: (currentPassword: string, newPassword: string) => Promise<void>;
}

/** Current, new and again: the server judges both passwords, and says why it refuses one
 * (a wrong current password, a new one too short or too long). */
export function ChangePasswordForm({ onChange }: Props) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const ids = { head: useId(), current: useId(), next: useId(), confirm: useId() };

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setError(null);
    setDone(false);
    if (!current || !next) {
      setError('Enter your current password and a new one.');
      return;
    }
    if (next !== confirm) {
      setError('The new password and its confirmation differ.');
      return;
    }
    setBusy(true);
    try {
      await onChange(current, next);
      setCurrent('');
      setNext('');
      setConfirm('');
      setDone(true);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="change-password" onSubmit={onSubmit} aria-labelledby={ids.head} noValidate>
      <h2 id={ids.head} className="group-title">
        Change password
      </h2>
      <div className="field">
        <label htmlFor={ids.current}>Current password</label>
        <input
          id={ids.current}
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.next}>New password</label>
        <input id={ids.next} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={ids.confirm}>Confirm new password</label>
        <input
          id={ids.confirm}
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
        />
      </div>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {done && (
        <p className="alert alert-info" role="status">
          Password changed. Your other sessions were logged out.
        </p>
      )}
      <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
        {busy ? <span className="spinner" aria-hidden="true" /> : null}
        Change password
      </button>
    </form>
  );
}
