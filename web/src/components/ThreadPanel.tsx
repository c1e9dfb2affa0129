import { useId } from 'react';
import type { HistoryState } from '../hooks/useRoomStream';
import type { MessageItem, Self, Timeline } from '../lib/messages';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import { MessageRow } from './MessageRow';

interface Props {
  /** The thread's first message, when the room's list holds it. */
  parent: MessageItem | null;
  parentId: string;
  timeline: Timeline;
  history: HistoryState;
  self: Self;
  onClose: () => void;
  onReload: () => void;
  onSend: (content: string) => void;
  onInvalid: (problem: string) => void;
  onRetry: (clientMsgId: string) => void;
  onDiscard: (clientMsgId: string) => void;
  sendTyping: () => boolean;
}

/** A message and its replies, oldest first, beside the room (below it on a phone), with a box
 * to reply. Escape closes it. */
export function ThreadPanel(p: Props) {
  const headId = useId();
  const statusId = useId();
  const own = (m: MessageItem) => (p.self.user_id ? m.user_id === p.self.user_id : m.username === p.self.username);
  return (
    <aside
      className="thread"
      aria-labelledby={headId}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented) p.onClose();
      }}
    >
      <header className="thread-head">
        <h2 id={headId}>Thread</h2>
        <button type="button" className="btn btn-ghost btn-small" onClick={p.onClose} aria-label="Close thread">
          ✕
        </button>
      </header>
      <div className="thread-scroller">
        {p.parent && (
          <ol className="timeline thread-parent" aria-label="Replying to">
            <MessageRow item={p.parent} own={own(p.parent)} grouped={false} inThread />
          </ol>
        )}
        <p id={statusId} className="muted small thread-status" role="status">
          {p.history.kind === 'loading'
            ? 'Loading replies…'
            : p.history.kind === 'error'
              ? `Could not load the replies: ${p.history.message}`
              : p.timeline.items.length === 0 && p.timeline.pending.length === 0
                ? 'No replies yet.'
                : ''}
        </p>
        {p.history.kind === 'error' && (
          <button type="button" className="btn btn-secondary btn-small" onClick={p.onReload}>
            Try again
          </button>
        )}
        <MessageList
          items={p.timeline.items}
          pending={p.timeline.pending}
          self={p.self}
          onRetry={p.onRetry}
          onDiscard={p.onDiscard}
          inThread
          label="Replies"
        />
      </div>
      <Composer
        roomId={p.parentId}
        label="Reply"
        placeholder="Reply in thread"
        describedBy={statusId}
        onSend={p.onSend}
        onInvalid={p.onInvalid}
        sendTyping={p.sendTyping}
      />
    </aside>
  );
}
