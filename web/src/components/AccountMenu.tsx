import { useId, useState } from 'react';
import type { Session, SessionActions } from '../App';
import { errorMessage } from '../lib/api';
import { Avatar } from './Avatar';
import { ChangePasswordForm } from './ChangePasswordForm';

interface Props {
  session: Session;
  actions: SessionActions;
}

/** Who is signed in, with "Log out" at hand and the rest of the account (the password, logging
 * out every device) behind "Account". */
export function AccountMenu({ session, actions }: Props) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const panelId = useId();

  async function logout(everywhere: boolean) {
    if (busy) return;
    setError(null);
    setBusy(true);
    try {
      // On success the session is gone, and this menu with it.
      await actions.logout(everywhere);
    } catch (e) {
      setError(`Could not log out: ${errorMessage(e)}`);
      setBusy(false);
    }
  }

  return (
    <>
      <div className="me">
        <Avatar name={session.username} />
        <span className="me-name" title={`Signed in as ${session.username}`}>
          {session.username}
        </span>
        <button
          type="button"
          className="btn btn-ghost btn-small"
          aria-expanded={open}
          aria-controls={panelId}
          onClick={() => setOpen((o) => !o)}
        >
          Account
        </button>
        <button type="button" className="btn btn-ghost btn-small" disabled={busy} onClick={() => void logout(false)}>
          Log out
        </button>
      </div>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <section id={panelId} className="account" aria-label="Account" hidden={!open}>
        <ChangePasswordForm onChange={actions.changePassword} />
        <button type="button" className="btn btn-secondary btn-block" disabled={busy} onClick={() => void logout(true)}>
          Log out everywhere
        </button>
        <p className="hint">Ends every session of yours, on every device, this one included.</p>
      </section>
    </>
  );
}
