import { useCallback, useEffect, useRef, useState, type Dispatch } from 'react';
import { ApiError, errorMessage, isNotFound, type Api } from '../lib/api';
import { ChatSocket } from '../lib/chatSocket';
import { queued, type Timeline, type TimelineAction } from '../lib/messages';
import { sendFrame, type ServerFrame } from '../lib/protocol';
import type { ConnState } from '../lib/reconnect';

/** Messages per history request. */
export const HISTORY_PAGE = 50;
/** How long after a reconnect an unconfirmed message may still arrive on the resumed stream. */
const UNCONFIRMED_GRACE_MS = 5_000;

export type HistoryState = { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string };

interface Options {
  api: Api;
  roomId: string;
  /** The session's token: sockets open with tickets it asks for, so a new one (the password
   * changed, which ended the old one) opens the stream again. */
  token: string;
  timeline: Timeline;
  dispatch: Dispatch<TimelineAction>;
  /** Every frame of the live stream; a new function reopens the stream. */
  onFrame: (f: ServerFrame) => void;
  /** The socket closed: it is reconnecting, or stopped for good (`stopReason` says why).
   * `token` is the one the stream was opened for, which a newer one may have replaced since. */
  onDown: (s: ConnState, token: string) => void;
  onForbidden: (why: string) => void;
  onNotFound: () => void;
}

/**
 * The room's live stream: loads the newest page of history, then opens the socket resuming
 * right after it; writes queued messages whenever the socket is open.
 */
export function useRoomStream({ api, roomId, token, timeline, dispatch, onFrame, onDown, onForbidden, onNotFound }: Options) {
  const [history, setHistory] = useState<HistoryState>({ kind: 'loading' });
  const [conn, setConn] = useState<ConnState | null>(null);
  const [everOpen, setEverOpen] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);
  const socketRef = useRef<ChatSocket | null>(null);
  // The latest callbacks, without reopening the stream when they change.
  const callbacks = useRef({ onDown, onForbidden, onNotFound });
  callbacks.current = { onDown, onForbidden, onNotFound };

  const onState = useCallback(
    (s: ConnState, streamToken: string) => {
      setConn(s);
      if (s.phase === 'open') {
        setEverOpen(true);
        return;
      }
      dispatch({ type: 'connection-lost' });
      callbacks.current.onDown(s, streamToken);
    },
    [dispatch],
  );

  // Load the newest page, then open the socket resuming right after it.
  useEffect(() => {
    let cancelled = false;
    let sock: ChatSocket | null = null;
    setHistory({ kind: 'loading' });
    (async () => {
      try {
        const page = await api.messages(roomId, { limit: HISTORY_PAGE });
        if (cancelled) return;
        dispatch({ type: 'history', messages: page, limit: HISTORY_PAGE, older: false });
        setHistory({ kind: 'ready' });
        const seqs = page.map((m) => m.seq).filter((s): s is number => s !== null);
        // An empty room resumes from 0 so nothing posted meanwhile is missed.
        const since = seqs.length ? Math.max(...seqs) : page.length === 0 ? 0 : null;
        sock = new ChatSocket({
          roomId,
          ticket: () => api.socketTicket(),
          since,
          onFrame,
          onState: (s) => onState(s, token),
        });
        socketRef.current = sock;
        sock.start();
      } catch (e) {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 403) callbacks.current.onForbidden(e.detail);
        else if (isNotFound(e)) callbacks.current.onNotFound();
        else setHistory({ kind: 'error', message: errorMessage(e) });
      }
    })();
    return () => {
      cancelled = true;
      sock?.stop();
      if (socketRef.current === sock) socketRef.current = null;
    };
  }, [api, roomId, token, reloadKey, dispatch, onFrame, onState]);

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
    const q = queued(timeline);
    if (q.length === 0) return;
    const sent = q.filter((p) => sock.send(sendFrame(p.content, p.client_msg_id))).map((p) => p.client_msg_id);
    if (sent.length) dispatch({ type: 'sent', client_msg_ids: sent });
  }, [timeline, conn?.phase, dispatch]);

  // After a reconnect, what the resumed stream did not deliver within a grace period was lost.
  const hasUnconfirmed = timeline.pending.some((p) => p.status === 'unconfirmed');
  useEffect(() => {
    if (conn?.phase !== 'open' || !hasUnconfirmed) return;
    const id = window.setTimeout(() => dispatch({ type: 'expire-unconfirmed' }), UNCONFIRMED_GRACE_MS);
    return () => window.clearTimeout(id);
  }, [conn?.phase, hasUnconfirmed, dispatch]);

  const phase = conn?.phase ?? 'connecting';
  return {
    history,
    phase,
    /** The socket was open once and is trying to be again. */
    reconnecting: everOpen && (phase === 'reconnecting' || phase === 'connecting'),
    lastClose: conn?.lastClose ?? null,
    /** Loads the newest page again (after it failed) and reopens the socket. */
    reload: () => setReloadKey((k) => k + 1),
    /** Reconnects now rather than after the back-off. */
    nudge: () => socketRef.current?.nudge(),
    /** Sends a frame if the socket is open; answers whether it went. */
    send: (frame: string) => socketRef.current?.send(frame) ?? false,
    /** Closes the socket for good (the reader left the room). */
    stop: () => socketRef.current?.stop(),
  };
}
