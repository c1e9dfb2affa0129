import { memo, useState } from 'react';
import { errorMessage } from '../lib/api';
import { formatTime } from '../lib/format';
import { mentionsMe } from '../lib/mentions';
import { reacted } from '../lib/messageChanges';
import type { MessageItem } from '../lib/messages';
import { useMessageActionsContext } from '../hooks/useMessageActions';
import { Avatar } from './Avatar';
import { EditForm } from './EditForm';
import { EmojiPicker } from './EmojiPicker';
import { MessageText } from './MessageText';
import { ReactionChips } from './ReactionChips';

interface Props {
  item: MessageItem;
  own: boolean;
  grouped: boolean;
  /** Drawn in a thread: no replies of its own to show or open. */
  inThread: boolean;
}

type Mode = { kind: 'view' } | { kind: 'editing' } | { kind: 'confirm-delete' } | { kind: 'deleting' };

const repliesText = (n: number) => (n === 1 ? '1 reply' : `${n} replies`);

/** One message: who and when, its text (or that it was deleted), its reactions and replies, and
 * what the reader may do with it: react, reply, and edit or delete (their own; the room's owner
 * may delete any). */
export const MessageRow = memo(function MessageRow({ item: m, own, grouped, inThread }: Props) {
  const actions = useMessageActionsContext();
  const { self } = actions;
  const [mode, setMode] = useState<Mode>({ kind: 'view' });
  const [error, setError] = useState<string | null>(null);
  const forMe = !own && mentionsMe(m.mentions, self);
  const canDelete = !m.deleted && (own || actions.isOwner);
  const author = own ? 'You' : m.username;
  const when = new Date(m.created_at).toLocaleString();

  async function remove() {
    setMode({ kind: 'deleting' });
    setError(null);
    try {
      await actions.remove(m);
    } catch (e) {
      setError(`Not deleted: ${errorMessage(e)}`);
    }
    setMode({ kind: 'view' });
  }

  const classes = ['msg', own && 'own', grouped && 'grouped', forMe && 'mentions-me', m.deleted && 'deleted'];
  return (
    <li className={classes.filter(Boolean).join(' ')} data-seq={m.seq ?? undefined} data-message-id={m.id}>
      {!own && <span className="msg-avatar">{grouped ? null : <Avatar name={m.username} />}</span>}
      <div className="msg-body">
        {!grouped && (
          <div className="msg-meta">
            <span className="msg-author">{author}</span>
            <time dateTime={m.created_at} title={when}>
              {formatTime(m.created_at)}
            </time>
          </div>
        )}
        {grouped && <span className="sr-only">{author}: </span>}
        {forMe && <span className="sr-only">(mentions you) </span>}
        {mode.kind === 'editing' && !m.deleted ? (
          <EditForm initial={m.content} onSave={(content) => actions.edit(m, content)} onDone={() => setMode({ kind: 'view' })} />
        ) : (
          <div className="bubble">
            {m.deleted ? <em className="tombstone">message deleted</em> : <MessageText content={m.content} mentions={m.mentions} self={self} />}
          </div>
        )}
        {mode.kind === 'confirm-delete' && !m.deleted && (
          <div className="confirm" role="group" aria-label="Confirm deletion">
            <span>Delete this message for everyone?</span>
            <button type="button" className="btn btn-danger btn-small" onClick={() => void remove()} autoFocus>
              Delete
            </button>
            <button type="button" className="btn btn-secondary btn-small" onClick={() => setMode({ kind: 'view' })}>
              Cancel
            </button>
          </div>
        )}
        {mode.kind === 'deleting' && <span className="pending-label small">Deleting…</span>}
        {error && (
          <p className="error-text small" role="alert">
            {error}
          </p>
        )}
        <div className="msg-foot">
          {m.edited_at && !m.deleted && (
            <span className="edited muted small" title={`Edited ${new Date(m.edited_at).toLocaleString()}`}>
              (edited)
            </span>
          )}
          <ReactionChips reactions={m.reactions} username={self.username} onToggle={(emoji, on) => actions.react(m, emoji, on)} />
          {!inThread && m.reply_count > 0 && (
            <button type="button" className="btn btn-link reply-count" onClick={() => actions.openThread(m.id)}>
              {repliesText(m.reply_count)}
            </button>
          )}
        </div>
      </div>
      {!m.deleted && mode.kind === 'view' && (
        <div className="msg-actions" role="group" aria-label={`Actions for the message from ${author}`}>
          <EmojiPicker
            isMine={(emoji) => m.reactions.some((r) => r.emoji === emoji && reacted(r, self.username))}
            onPick={(emoji) => actions.react(m, emoji, !m.reactions.some((r) => r.emoji === emoji && reacted(r, self.username)))}
          />
          {!inThread && (
            <button type="button" className="msg-action" onClick={() => actions.openThread(m.id)}>
              Reply
            </button>
          )}
          {own && (
            <button type="button" className="msg-action" onClick={() => setMode({ kind: 'editing' })}>
              Edit
            </button>
          )}
          {canDelete && (
            <button type="button" className="msg-action danger" onClick={() => setMode({ kind: 'confirm-delete' })}>
              Delete
            </button>
          )}
        </div>
      )}
    </li>
  );
});
