import { memo, type ReactElement } from 'react';
import { differentDay, formatDay, formatTime } from '../lib/format';
import { sameGroup, type PendingMessage, type Self, type TimelineItem } from '../lib/messages';
import { MessageRow } from './MessageRow';

interface Props {
  items: TimelineItem[];
  pending: PendingMessage[];
  self: Self;
  onRetry: (clientMsgId: string) => void;
  onDiscard: (clientMsgId: string) => void;
  /** A thread's replies rather than the room's messages. */
  inThread?: boolean;
  label?: string;
}

function isOwn(m: { user_id: string; username: string }, self: Self): boolean {
  if (self.user_id && m.user_id) return m.user_id === self.user_id;
  return m.username === self.username;
}

const PENDING_LABEL: Record<PendingMessage['status'], string> = {
  queued: 'Waiting for connection…',
  sending: 'Sending…',
  unconfirmed: 'Sending…',
  failed: 'Not sent',
};

export const MessageList = memo(function MessageList({ items, pending, self, onRetry, onDiscard, inThread = false, label = 'Conversation' }: Props) {
  const now = new Date();
  const rows: ReactElement[] = [];
  let prev: TimelineItem | undefined;
  for (const it of items) {
    // The room's list leaves replies to their threads.
    if (!inThread && it.kind === 'message' && it.reply_to !== null) continue;
    if (differentDay(prev?.created_at, it.created_at)) {
      rows.push(
        <li key={`day-${it.id}`} className="day-sep" role="separator">
          <span>{formatDay(it.created_at, now)}</span>
        </li>,
      );
    }
    if (it.kind === 'member') {
      rows.push(
        <li key={`m-${it.seq ?? it.id}`} className="system-line">
          <span>
            <strong>{it.username}</strong> {it.event === 'joined' ? 'joined the room' : 'left the room'}
          </span>
          <time dateTime={it.created_at}>{formatTime(it.created_at)}</time>
        </li>,
      );
    } else {
      rows.push(
        <MessageRow
          key={it.seq !== null ? `s-${it.seq}` : `i-${it.id}`}
          item={it}
          own={isOwn(it, self)}
          grouped={sameGroup(prev, it)}
          inThread={inThread}
        />,
      );
    }
    prev = it;
  }
  for (const p of pending) {
    rows.push(
      <li key={`p-${p.client_msg_id}`} className={`msg own pending ${p.status}`} data-client-msg-id={p.client_msg_id}>
        <div className="msg-body">
          <span className="sr-only">You: </span>
          <div className="bubble">{p.content}</div>
          <div className="msg-status">
            {p.status === 'failed' ? (
              <>
                <span className="error-text">
                  {PENDING_LABEL.failed}
                  {p.error ? `: ${p.error}` : ''}
                </span>
                <button type="button" className="btn btn-link" onClick={() => onRetry(p.client_msg_id)}>
                  Retry
                </button>
                <button type="button" className="btn btn-link" onClick={() => onDiscard(p.client_msg_id)}>
                  Discard
                </button>
              </>
            ) : (
              <span className="pending-label">{PENDING_LABEL[p.status]}</span>
            )}
          </div>
        </div>
      </li>,
    );
  }
  return (
    <ol className="timeline" role="log" aria-label={label} aria-live="polite" aria-relevant="additions">
      {rows}
    </ol>
  );
});
