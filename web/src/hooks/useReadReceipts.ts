import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Api } from '../lib/api';
import type { TimelineItem } from '../lib/messages';
import { ReadMarker, seenBy, seenText, type Receipt } from '../lib/reads';

interface Options {
  api: Api;
  roomId: string;
  items: TimelineItem[];
  selfId: string;
  /** Whether the newest messages are on screen (the reader is at the bottom). */
  atBottom: () => boolean;
  /** This client marked the room read up to `seq`. */
  onMarked: (seq: number) => void;
}

/**
 * Read receipts of one room: everyone's position (from the members list, then live `read`
 * frames) and the "Seen by" line under the last message; and the reader's own position, marked
 * as the newest messages are on screen while the page is visible, at most once a second.
 */
export function useReadReceipts({ api, roomId, items, selfId, atBottom, onMarked }: Options) {
  const [receipts, setReceipts] = useState<Map<string, Receipt>>(() => new Map());
  const marked = useRef(onMarked);
  marked.current = onMarked;

  useEffect(() => {
    let cancelled = false;
    setReceipts(new Map());
    api
      .members(roomId)
      .then((members) => {
        if (cancelled) return;
        const known = members.flatMap((m) =>
          m.last_read_seq === null ? [] : [{ user_id: m.user_id, username: m.username, seq: m.last_read_seq }],
        );
        // Frames that came meanwhile may be further on.
        setReceipts((live) => {
          const merged = new Map(known.map((r) => [r.user_id, r]));
          for (const r of live.values()) if ((merged.get(r.user_id)?.seq ?? -1) < r.seq) merged.set(r.user_id, r);
          return merged;
        });
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [api, roomId]);

  const onRead = useCallback((r: Receipt) => {
    setReceipts((m) => ((m.get(r.user_id)?.seq ?? -1) >= r.seq ? m : new Map(m).set(r.user_id, r)));
  }, []);

  const last = useMemo(() => {
    for (let i = items.length - 1; i >= 0; i--) {
      const item = items[i];
      if (item.kind === 'message' && item.seq !== null && !item.deleted) return { seq: item.seq, user_id: item.user_id };
    }
    return null;
  }, [items]);
  const newest = useMemo(
    () => items.reduce((max, item) => (item.seq !== null && item.seq > max ? item.seq : max), 0),
    [items],
  );

  const marker = useMemo(
    () =>
      new ReadMarker((seq) => {
        void api.markRead(roomId, seq).catch(() => {});
        marked.current(seq);
      }),
    [api, roomId],
  );
  useEffect(() => () => marker.stop(), [marker]);

  const check = useCallback(() => {
    if (newest > 0 && document.visibilityState === 'visible' && atBottom()) marker.mark(newest);
  }, [marker, newest, atBottom]);
  useEffect(() => {
    check();
    document.addEventListener('visibilitychange', check);
    return () => document.removeEventListener('visibilitychange', check);
  }, [check]);

  return { seen: seenText(seenBy(receipts.values(), last, selfId)), onRead, check };
}
