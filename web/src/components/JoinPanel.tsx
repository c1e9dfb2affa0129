import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { errorMessage, isNotFound, type Api, type Room } from '../lib/api';
import { HashIcon, LockIcon } from './Icons';

interface Props {
  api: Api;
  roomId: string;
  room: Room | null;
  /** Why the server refused access, when it did. */
  reason: string | null;
  back: ReactNode;
  onJoined: () => void;
  onNotFound: () => void;
}

export function JoinPanel({ api, roomId, room, reason, back, onJoined, onNotFound }: Props) {
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { pass: useId(), head: useId(), desc: useId() };
  const firstRef = useRef<HTMLInputElement & HTMLButtonElement>(null);
  // A room missing from the list may be private: offer the password field then too.
  const needsPassword = room ? room.is_private : true;

  useEffect(() => {
    firstRef.current?.focus();
  }, []);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setError(null);
    if (room?.is_private && !password) {
      setError('Enter the room password to join this private room.');
      firstRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await api.joinRoom(roomId, needsPassword && password ? password : undefined);
      onJoined();
    } catch (err) {
      if (isNotFound(err)) {
        onNotFound();
        return;
      }
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  const name = room?.name ?? 'this room';

  return (
    <section className="join" aria-labelledby={ids.head}>
      <header className="chat-head">
        {back}
        <div className="chat-title">
          <h1 id={ids.head}>
            <span className="room-icon">{room?.is_private ? <LockIcon /> : <HashIcon />}</span>
            {room?.name ?? 'Room'}
          </h1>
        </div>
      </header>
      <div className="join-body">
        <form className="join-card" onSubmit={onSubmit} aria-describedby={ids.desc} noValidate>
          <h2>Join {name}</h2>
          <p id={ids.desc} className="muted">
            {reason && room?.is_member !== false ? `${reason} ` : ''}
            {room?.is_private
              ? 'This room is private. Enter its password to join.'
              : room
                ? 'You are not a member of this room yet. Join to read and send messages.'
                : 'Join this room to read and send messages. Private rooms need their password.'}
            {room && room.member_count !== null
              ? ` ${room.member_count} ${room.member_count === 1 ? 'member' : 'members'}.`
              : ''}
          </p>
          {needsPassword && (
            <div className="field">
              <label htmlFor={ids.pass}>Room password</label>
              <input
                id={ids.pass}
                ref={firstRef}
                type="password"
                autoComplete="off"
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
          <button type="submit" className="btn btn-primary" disabled={busy} ref={needsPassword ? undefined : firstRef}>
            {busy ? <span className="spinner" aria-hidden="true" /> : null}
            Join
          </button>
        </form>
      </div>
    </section>
  );
}
