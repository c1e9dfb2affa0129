import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { errorMessage, type Api } from '../lib/api';
import { emptyTimeline, newClientMsgId, queued, timelineReducer, type TimelineAction } from '../lib/messages';
import type { HistoryState } from './useRoomStream';

/** Replies per request, and the most a thread loads. */
const REPLIES_PAGE = 100;
const REPLIES_MAX = 1_000;

/**
 * The open thread of a room: its replies, oldest first (`GET …/replies`, page after page), kept
 * live by the room's socket (the caller passes its frames on with `dispatch`), and the replies
 * the reader writes, posted over HTTP with `reply_to` and shown as pending until answered.
 */
export function useThread(api: Api, roomId: string) {
  const [opened, setOpened] = useState<{ roomId: string; id: string } | null>(null);
  // A thread belongs to its room: opening another room closes it.
  const parentId = opened?.roomId === roomId ? opened.id : null;
  const [timeline, dispatch] = useReducer(timelineReducer, undefined, emptyTimeline);
  const [history, setHistory] = useState<HistoryState>({ kind: 'loading' });
  const [reloadKey, setReloadKey] = useState(0);
  const openId = useRef<string | null>(null);
  openId.current = parentId;

  useEffect(() => {
    dispatch({ type: 'reset' });
    if (!parentId) return;
    let cancelled = false;
    setHistory({ kind: 'loading' });
    (async () => {
      try {
        let after: number | null = null;
        for (let loaded = 0; loaded < REPLIES_MAX; loaded += REPLIES_PAGE) {
          const page = await api.replies(roomId, parentId, { limit: REPLIES_PAGE, afterSeq: after });
          if (cancelled) return;
          dispatch({ type: 'history', messages: page, limit: REPLIES_PAGE, older: false });
          const last = page[page.length - 1]?.seq ?? null;
          if (page.length < REPLIES_PAGE || last === null) break;
          after = last;
        }
        setHistory({ kind: 'ready' });
      } catch (e) {
        if (!cancelled) setHistory({ kind: 'error', message: errorMessage(e) });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, roomId, parentId, reloadKey]);

  // Post what the reader queued (a new reply, or one to retry) once, with its own id, so a
  // retry after a lost answer cannot post it twice.
  useEffect(() => {
    const parent = parentId;
    const q = queued(timeline);
    if (!parent || q.length === 0) return;
    dispatch({ type: 'sent', client_msg_ids: q.map((p) => p.client_msg_id) });
    for (const p of q) {
      api
        .postMessage(roomId, p.content, { replyTo: parent, clientMsgId: p.client_msg_id })
        .then((m) => {
          if (openId.current === parent) dispatch({ type: 'message', message: m });
        })
        .catch((e: unknown) => {
          if (openId.current === parent) dispatch({ type: 'send-error', client_msg_id: p.client_msg_id, detail: errorMessage(e) });
        });
    }
  }, [api, roomId, parentId, timeline]);

  const send = useCallback((content: string) => {
    dispatch({
      type: 'queue',
      pending: { client_msg_id: newClientMsgId(), content, created_at: new Date().toISOString(), status: 'queued', error: null },
    });
  }, []);

  /** Passes on what the room's socket says: replies to this thread, and changes to any message. */
  const onRoomAction = useCallback((a: TimelineAction) => {
    if (a.type === 'message' && (!openId.current || a.message.reply_to !== openId.current)) return;
    dispatch(a);
  }, []);

  return {
    parentId,
    /** Opens the thread of a message (null closes it). */
    open: useCallback((id: string | null) => setOpened(id ? { roomId, id } : null), [roomId]),
    timeline,
    history,
    reload: () => setReloadKey((k) => k + 1),
    send,
    onRoomAction,
    retry: (id: string) => dispatch({ type: 'retry', client_msg_id: id }),
    discard: (id: string) => dispatch({ type: 'discard', client_msg_id: id }),
  };
}
