import { useId, useState } from 'react';
import { errorMessage, type Api, type Member } from '../lib/api';
import { roomPath } from '../lib/route';
import { navigate } from '../router';
import { Avatar } from './Avatar';

interface Props {
  api: Api;
  roomId: string;
  selfId: string;
}

/** The room's members behind a "Members" button, each but oneself with a "Message" action
 * that opens (or starts) a direct message with them. */
export function MembersMenu({ api, roomId, selfId }: Props) {
  const [open, setOpen] = useState(false);
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const panelId = useId();

  async function toggle() {
    if (open) {
      setOpen(false);
      return;
    }
    setOpen(true);
    setMembers(null);
    setError(null);
    try {
      setMembers(await api.members(roomId));
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  async function message(username: string) {
    setError(null);
    try {
      const directId = await api.openDirect(username);
      setOpen(false);
      navigate(roomPath(directId));
    } catch (e) {
      setError(`Could not message ${username}: ${errorMessage(e)}`);
    }
  }

  return (
    <div className="members-menu">
      <button type="button" className="btn btn-ghost btn-small" aria-expanded={open} aria-controls={panelId} onClick={() => void toggle()}>
        Members
      </button>
      <section id={panelId} className="members-panel" aria-label="Members" hidden={!open}>
        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
        {members === null && !error && (
          <p className="muted small" role="status">
            Loading members…
          </p>
        )}
        {members && (
          <ul className="member-list">
            {members.map((m) => (
              <li key={m.user_id}>
                <Avatar name={m.username} size="sm" />
                <span className="member-name">{m.username}</span>
                {m.user_id !== selfId && (
                  <button
                    type="button"
                    className="btn btn-secondary btn-small"
                    aria-label={`Message ${m.username}`}
                    onClick={() => void message(m.username)}
                  >
                    Message
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
