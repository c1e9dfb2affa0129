import type { HistoryState } from '../hooks/useRoomStream';
import type { Self, Timeline } from '../lib/messages';
import { MessageList } from './MessageList';

interface Props {
  history: HistoryState;
  timeline: Timeline;
  /** What the conversation is, as its first line names it: "lobby", "your conversation with bob". */
  title: string;
  self: Self;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  onReload: () => void;
  onRetry: (clientMsgId: string) => void;
  onDiscard: (clientMsgId: string) => void;
}

/** The scroller's content: the history as it loads, or why it did not. */
export function RoomTimeline({ history, timeline, title, self, loadingOlder, onLoadOlder, onReload, onRetry, onDiscard }: Props) {
  if (history.kind === 'error') {
    return (
      <div className="empty-state">
        <p className="alert alert-error" role="alert">
          Could not load messages: {history.message}
        </p>
        <button type="button" className="btn btn-secondary" onClick={onReload}>
          Try again
        </button>
      </div>
    );
  }
  if (history.kind === 'loading') {
    return (
      <div className="empty-state" role="status">
        <span className="spinner spinner-lg" aria-hidden="true" />
        <p className="muted">Loading messages…</p>
      </div>
    );
  }
  return (
    <>
      {timeline.hasOlder && timeline.items.length > 0 ? (
        <div className="older">
          <button type="button" className="btn btn-link" onClick={onLoadOlder} disabled={loadingOlder}>
            {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
          </button>
        </div>
      ) : timeline.items.length > 0 ? (
        <p className="timeline-start muted small">This is the beginning of {title}.</p>
      ) : null}
      {timeline.items.length === 0 && timeline.pending.length === 0 ? (
        <div className="empty-state">
          <p className="muted">No messages yet. Say hello!</p>
        </div>
      ) : null}
      <MessageList items={timeline.items} pending={timeline.pending} self={self} onRetry={onRetry} onDiscard={onDiscard} />
    </>
  );
}
