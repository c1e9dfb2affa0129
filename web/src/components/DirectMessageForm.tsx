import { useId, useState, type FormEvent } from 'react';
import { errorMessage, type Api } from '../lib/api';
import { roomPath } from '../lib/route';
import { validateUsername } from '../lib/validate';
import { navigate } from '../router';

/** Starts a direct message with someone by name, or opens the one there is. */
export function DirectMessageForm({ api }: { api: Api }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { name: useId() };

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const problem = validateUsername(name.trim(), 'Type the name of the person to message.');
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      const roomId = await api.openDirect(name.trim());
      setName('');
      navigate(roomPath(roomId));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="direct-form" onSubmit={onSubmit} noValidate>
      <label htmlFor={ids.name} className="sr-only">
        Message someone
      </label>
      <input
        id={ids.name}
        placeholder="Username"
        value={name}
        onChange={(e) => setName(e.target.value)}
        autoComplete="off"
      />
      <button type="submit" className="btn btn-secondary btn-small" disabled={busy}>
        Message
      </button>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
