import { useId, useState, type FormEvent } from 'react';
import { errorMessage, type Api, type Room } from '../lib/api';
import { validateRoomName } from '../lib/validate';

interface Props {
  api: Api;
  onCreated: (room: Room) => void;
}

/** Creates a room. The "Room password" field appears once "Private" is ticked:
 * only private rooms have a password. */
export function CreateRoomForm({ api, onCreated }: Props) {
  const [name, setName] = useState('');
  const [isPrivate, setIsPrivate] = useState(false);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { name: useId(), priv: useId(), pass: useId(), head: useId() };

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setError(null);
    const problem = validateRoomName(name);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    try {
      const room = await api.createRoom(name.trim(), isPrivate, isPrivate ? password : undefined);
      setName('');
      setPassword('');
      setIsPrivate(false);
      onCreated(room);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="create-room" onSubmit={onSubmit} aria-labelledby={ids.head} noValidate>
      <h2 id={ids.head} className="group-title">
        New room
      </h2>
      <div className="field">
        <label htmlFor={ids.name}>Room name</label>
        <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
      </div>
      <div className="check">
        <input id={ids.priv} type="checkbox" checked={isPrivate} onChange={(e) => setIsPrivate(e.target.checked)} />
        <label htmlFor={ids.priv}>Private</label>
      </div>
      {isPrivate && (
        <div className="field">
          <label htmlFor={ids.pass}>Room password</label>
          <input
            id={ids.pass}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
      )}
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
        {busy ? <span className="spinner" aria-hidden="true" /> : null}
        Create room
      </button>
    </form>
  );
}
