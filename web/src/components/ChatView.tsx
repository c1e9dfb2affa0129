import { useCallback, useEffect, useId, useLayoutEffect, useReducer, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from 'react';
import type { Session } from '../App';
import { ApiError, errorMessage, isNotFound, type Api, type Room } from '../lib/api';
import { ChatSocket } from '../lib/chatSocket';
import { nameList } from '../lib/format';
import {
  emptyTimeline,
  newClientMsgId,
  oldestSeq,
  queued,
  timelineReducer,
  type MemberItem,
} from '../lib/messages';
import { applyPresence, sendFrame, typingFrame, typingText, type PresenceUser, type ServerFrame } from '../lib/protocol';
import { closeMessage, type ConnState } from '../lib/reconnect';
import { validateMessage } from '../lib/validate';
import { Avatar } from './Avatar';
import { HashIcon, LockIcon, SendIcon } from './Icons';
import { MessageList } from './MessageList';

const PAGE = 50;
const TYPING_SEND_EVERY_MS = 3_000;
const TYPING_SHOW_MS = 5_000;
const UNCONFIRMED_GRACE_MS = 5_000;

interface Props {
  api: Api;
  session: Session;
  roomId: string;
  room: Room | null;
  back: ReactNode;
  onForbidden: (why: string) => void;
  onNotFound: () => void;
  onLeft: () => void;
  onLogout: (why?: string) => void;
  /** Someone joined or left: the room list's member counts are out of date. */
  onMembersChanged: (seq: number | null) => void;
}

type HistoryState = { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string };

export function ChatView({ api, session, roomId, room, back, onForbidden, onNotFound, onLeft, onLogout, onMembersChanged }: Props) {
  const [tl, dispatch] = useReducer(timelineReducer, undefined, emptyTimeline);
  const [history, setHistory] = useState<HistoryState>({ kind: 'loading' });
  const [conn, setConn] = useState<ConnState | null>(null);
  const [everOpen, setEverOpen] = useState(false);
  const [presence, setPresence] = useState<PresenceUser[] | null>(null);
  const [typing, setTyping] = useState<Map<string, { username: string; until: number }>>(() => new Map());
  const [banner, setBanner] = useState<string | null>(null);
  const [draft, setDraft] = useState('');
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const [leaving, setLeaving] = useState(false);

  const socketRef = useRef<ChatSocket | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const stickRef = useRef(true);
  const anchorRef = useRef<{ height: number; top: number } | null>(null);
  const lastTypingSent = useRef(0);
  const ids = { head: useId(), msg: useId(), status: useId() };

  const self = { user_id: session.userId, username: session.username };
  const tlRef = useRef(tl);
  tlRef.current = tl;
  const handlers = useRef({ onForbidden, onNotFound, onLogout, onMembersChanged, self });
  handlers.current = { onForbidden, onNotFound, onLogout, onMembersChanged, self };

  useEffect(() => {
    document.title = room ? `${room.name} · Chat` : 'Chat';
    return () => {
      document.title = 'Chat';
    };
  }, [room?.name]);

  // Focus the message box as soon as the room opens.
  useEffect(() => {
    inputRef.current?.focus();
  }, [roomId]);

  const onFrame = useCallback(
    (f: ServerFrame) => {
      const me = handlers.current.self;
      switch (f.type) {
        case 'message':
          dispatch({ type: 'message', message: f.message });
          setTyping((m) => {
            if (!m.has(f.message.user_id)) return m;
            const n = new Map(m);
            n.delete(f.message.user_id);
            return n;
          });
          break;
        case 'ack':
          dispatch({ type: 'ack', client_msg_id: f.client_msg_id, id: f.id, seq: f.seq, room_id: roomId, self: me });
          break;
        case 'error': {
          // An error about a message is shown on that message; anything else goes in the banner.
          const t = tlRef.current;
          const aboutMessage = f.client_msg_id
            ? t.pending.some((p) => p.client_msg_id === f.client_msg_id)
            : t.pending.some((p) => p.status === 'sending');
          if (!aboutMessage) setBanner(f.detail);
          dispatch({ type: 'send-error', client_msg_id: f.client_msg_id, detail: f.detail });
          break;
        }
        case 'member_joined':
        case 'member_left': {
          const item: MemberItem = {
            kind: 'member',
            event: f.type === 'member_joined' ? 'joined' : 'left',
            id: f.id ?? `member-${f.seq ?? Date.now()}-${f.user_id}`,
            seq: f.seq,
            user_id: f.user_id,
            username: f.username,
            created_at: f.created_at ?? new Date().toISOString(),
          };
          dispatch({ type: 'member', item });
          handlers.current.onMembersChanged(f.seq);
          break;
        }
        case 'typing':
          if ((me.user_id && f.user_id === me.user_id) || f.username === me.username) break;
          setTyping((m) => new Map(m).set(f.user_id, { username: f.username, until: Date.now() + TYPING_SHOW_MS }));
          break;
        case 'presence':
        case 'presence_changed':
          setPresence((users) => applyPresence(users, f));
          break;
        default:
          break;
      }
    },
    [roomId],
  );

  const onState = useCallback((s: ConnState) => {
    setConn(s);
    if (s.phase === 'open') {
      setEverOpen(true);
      return;
    }
    dispatch({ type: 'connection-lost' });
    if (s.phase === 'reconnecting') {
      setPresence(null);
      setTyping(new Map());
    }
    if (s.phase === 'stopped') {
      if (s.stopReason === 'unauthorized') handlers.current.onLogout('Your session has expired. Please log in again.');
      else if (s.stopReason === 'forbidden') handlers.current.onForbidden('You are not a member of this room.');
      else if (s.stopReason === 'not_found') handlers.current.onNotFound();
      else if (s.stopReason === 'refused') {
        const why = s.lastClose?.reason;
        setBanner(`${closeMessage(4000)}${why ? ` ${why}` : ''} Reload the page to try again.`);
      }
    }
  }, []);

  // Load the newest page, then open the socket resuming right after it.
  useEffect(() => {
    let cancelled = false;
    let sock: ChatSocket | null = null;
    setHistory({ kind: 'loading' });
    (async () => {
      try {
        const page = await api.messages(roomId, { limit: PAGE });
        if (cancelled) return;
        dispatch({ type: 'history', messages: page, limit: PAGE, older: false });
        setHistory({ kind: 'ready' });
        const seqs = page.map((m) => m.seq).filter((s): s is number => s !== null);
        // An empty room resumes from 0 so nothing posted meanwhile is missed.
        const since = seqs.length ? Math.max(...seqs) : page.length === 0 ? 0 : null;
        sock = new ChatSocket({ roomId, token: session.token, since, onFrame, onState });
        socketRef.current = sock;
        sock.start();
      } catch (e) {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 403) handlers.current.onForbidden(e.detail);
        else if (isNotFound(e)) handlers.current.onNotFound();
        else setHistory({ kind: 'error', message: errorMessage(e) });
      }
    })();
    return () => {
      cancelled = true;
      sock?.stop();
      if (socketRef.current === sock) socketRef.current = null;
    };
  }, [api, roomId, session.token, reloadKey, onFrame, onState]);

  // Reconnect at once when the browser comes back online.
  useEffect(() => {
    const on = () => socketRef.current?.nudge();
    window.addEventListener('online', on);
    return () => window.removeEventListener('online', on);
  }, []);

  // Write queued messages as soon as the socket is open.
  useEffect(() => {
    const sock = socketRef.current;
    if (!sock || conn?.phase !== 'open') return;
    const q = queued(tl);
    if (q.length === 0) return;
    const sent = q.filter((p) => sock.send(sendFrame(p.content, p.client_msg_id))).map((p) => p.client_msg_id);
    if (sent.length) dispatch({ type: 'sent', client_msg_ids: sent });
  }, [tl, conn?.phase]);

  // After a reconnect, what the resumed stream did not deliver within a grace period was lost.
  const hasUnconfirmed = tl.pending.some((p) => p.status === 'unconfirmed');
  useEffect(() => {
    if (conn?.phase !== 'open' || !hasUnconfirmed) return;
    const id = window.setTimeout(() => dispatch({ type: 'expire-unconfirmed' }), UNCONFIRMED_GRACE_MS);
    return () => window.clearTimeout(id);
  }, [conn?.phase, hasUnconfirmed]);

  // Drop typing notices that ran out.
  useEffect(() => {
    if (typing.size === 0) return;
    const id = window.setInterval(() => {
      const now = Date.now();
      setTyping((m) => {
        const n = new Map([...m].filter(([, v]) => v.until > now));
        return n.size === m.size ? m : n;
      });
    }, 1000);
    return () => window.clearInterval(id);
  }, [typing.size]);

  // Keep the view pinned to the newest message, or steady while an older page is prepended.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const a = anchorRef.current;
    if (a) {
      el.scrollTop = el.scrollHeight - a.height + a.top;
      anchorRef.current = null;
    } else if (stickRef.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [tl.items, tl.pending, history.kind]);

  const loadOlder = useCallback(async () => {
    if (loadingOlder || !tl.hasOlder || history.kind !== 'ready') return;
    const before = oldestSeq(tl);
    if (before === null) return;
    setLoadingOlder(true);
    try {
      const page = await api.messages(roomId, { limit: PAGE, beforeSeq: before });
      const el = scrollRef.current;
      if (el) anchorRef.current = { height: el.scrollHeight, top: el.scrollTop };
      dispatch({ type: 'history', messages: page, limit: PAGE, older: true });
    } catch (e) {
      setBanner(`Could not load older messages: ${errorMessage(e)}`);
    } finally {
      setLoadingOlder(false);
    }
  }, [api, roomId, tl, loadingOlder, history.kind]);

  function onScroll() {
    const el = scrollRef.current;
    if (!el) return;
    stickRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (el.scrollTop < 150) void loadOlder();
  }

  function send() {
    const content = draft;
    const problem = validateMessage(content);
    if (problem) {
      if (content.trim()) setBanner(problem);
      return;
    }
    setBanner(null);
    dispatch({
      type: 'queue',
      pending: {
        client_msg_id: newClientMsgId(),
        content,
        created_at: new Date().toISOString(),
        status: 'queued',
        error: null,
      },
    });
    setDraft('');
    stickRef.current = true;
    lastTypingSent.current = 0;
    inputRef.current?.focus();
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    send();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  function onDraftChange(v: string) {
    setDraft(v);
    const now = Date.now();
    if (v && now - lastTypingSent.current >= TYPING_SEND_EVERY_MS && socketRef.current?.send(typingFrame())) {
      lastTypingSent.current = now;
    }
  }

  async function leave() {
    if (leaving) return;
    setLeaving(true);
    try {
      await api.leaveRoom(roomId);
      socketRef.current?.stop();
      onLeft();
    } catch (e) {
      setBanner(`Could not leave the room: ${errorMessage(e)}`);
      setLeaving(false);
    }
  }

  // Auto-grow the message box up to a few lines.
  useLayoutEffect(() => {
    const el = inputRef.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [draft]);

  const phase = conn?.phase ?? 'connecting';
  const reconnecting = everOpen && (phase === 'reconnecting' || phase === 'connecting');
  const typingNames = [...typing.values()].map((t) => t.username);
  const online = presence ?? [];
  const title = room?.name ?? 'Room';

  let statusLabel: string;
  let statusClass: string;
  if (history.kind === 'loading') {
    statusLabel = 'Loading…';
    statusClass = 'connecting';
  } else if (phase === 'open') {
    statusLabel = 'Live';
    statusClass = 'live';
  } else if (reconnecting) {
    statusLabel = 'Reconnecting…';
    statusClass = 'reconnecting';
  } else if (phase === 'stopped') {
    statusLabel = 'Offline';
    statusClass = 'offline';
  } else {
    statusLabel = 'Connecting…';
    statusClass = 'connecting';
  }

  return (
    <section className="chat" aria-labelledby={ids.head}>
      <header className="chat-head">
        {back}
        <div className="chat-title">
          <h1 id={ids.head}>
            <span className="room-icon">{room?.is_private ? <LockIcon title="Private room" /> : <HashIcon />}</span>
            <span className="chat-name">{title}</span>
          </h1>
          <div className="presence" aria-live="polite">
            {presence === null ? (
              <span className="muted small">&nbsp;</span>
            ) : (
              <>
                <span className="avatars" aria-hidden="true">
                  {online.slice(0, 4).map((u) => (
                    <Avatar key={u.user_id} name={u.username} size="sm" />
                  ))}
                </span>
                <span className="small muted presence-text" title={online.map((u) => u.username).join(', ')}>
                  <span className="online-dot" aria-hidden="true" /> {online.length} online
                  <span className="presence-names">: {nameList(online.map((u) => u.username))}</span>
                </span>
              </>
            )}
          </div>
        </div>
        <span className={`conn-pill ${statusClass}`} id={ids.status}>
          <span className="dot" aria-hidden="true" />
          {statusLabel}
        </span>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => void leave()} disabled={leaving}>
          Leave room
        </button>
      </header>

      {reconnecting && (
        <div className="banner banner-warn" role="status">
          <span className="spinner" aria-hidden="true" />
          <span>Reconnecting…</span>
          {conn?.lastClose && conn.lastClose.code === 4008 && (
            <span className="muted small">The connection fell behind; catching up.</span>
          )}
          <button type="button" className="btn btn-link" onClick={() => socketRef.current?.nudge()}>
            Retry now
          </button>
        </div>
      )}
      {banner && (
        <div className="banner banner-error" role="alert">
          <span>{banner}</span>
          <button type="button" className="btn btn-link" onClick={() => setBanner(null)} aria-label="Dismiss error">
            Dismiss
          </button>
        </div>
      )}

      <div className="scroller" ref={scrollRef} onScroll={onScroll}>
        {history.kind === 'error' ? (
          <div className="empty-state">
            <p className="alert alert-error" role="alert">
              Could not load messages: {history.message}
            </p>
            <button type="button" className="btn btn-secondary" onClick={() => setReloadKey((k) => k + 1)}>
              Try again
            </button>
          </div>
        ) : history.kind === 'loading' ? (
          <div className="empty-state" role="status">
            <span className="spinner spinner-lg" aria-hidden="true" />
            <p className="muted">Loading messages…</p>
          </div>
        ) : (
          <>
            {tl.hasOlder && tl.items.length > 0 ? (
              <div className="older">
                <button type="button" className="btn btn-link" onClick={() => void loadOlder()} disabled={loadingOlder}>
                  {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
                </button>
              </div>
            ) : tl.items.length > 0 ? (
              <p className="timeline-start muted small">This is the beginning of {title}.</p>
            ) : null}
            {tl.items.length === 0 && tl.pending.length === 0 ? (
              <div className="empty-state">
                <p className="muted">No messages yet. Say hello!</p>
              </div>
            ) : null}
            <MessageList
              items={tl.items}
              pending={tl.pending}
              self={self}
              onRetry={(id) => dispatch({ type: 'retry', client_msg_id: id })}
              onDiscard={(id) => dispatch({ type: 'discard', client_msg_id: id })}
            />
          </>
        )}
      </div>

      <div className="typing" aria-live="polite">
        {typingText(typingNames)}
      </div>

      <form className="composer" onSubmit={onSubmit}>
        <label htmlFor={ids.msg} className="sr-only">
          Message
        </label>
        <textarea
          id={ids.msg}
          ref={inputRef}
          rows={1}
          placeholder={`Message ${room ? (room.is_private ? '' : '#') + room.name : ''}`.trim()}
          value={draft}
          onChange={(e) => onDraftChange(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby={ids.status}
        />
        <button type="submit" className="btn btn-primary send" disabled={!draft.trim()} aria-label="Send">
          <SendIcon />
          <span>Send</span>
        </button>
      </form>
    </section>
  );
}
