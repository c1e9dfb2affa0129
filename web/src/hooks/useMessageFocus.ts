import { useEffect, useRef, type RefObject } from 'react';
import type { Timeline } from '../lib/messages';

/** A message to bring into view, and when it was asked for (asking again scrolls again). */
export interface FocusTarget {
  seq: number;
  at: number;
}

/** How many older pages are loaded looking for the message before giving up. */
const MAX_PAGES = 40;

interface Options {
  target: FocusTarget | null;
  timeline: Timeline;
  /** Whether the newest page is in. */
  ready: boolean;
  loadingOlder: boolean;
  loadOlder: () => void;
  scrollRef: RefObject<HTMLDivElement | null>;
  /** The message is not in the history (deleted since, or too deep to look for). */
  onMissing: () => void;
}

/**
 * Opens the room at a message: loads older pages until it is in the timeline, then scrolls it to
 * the middle of the view and marks it (`data-focused`, which React does not manage, so a
 * re-render keeps it).
 */
export function useMessageFocus({ target, timeline, ready, loadingOlder, loadOlder, scrollRef, onMissing }: Options) {
  const handled = useRef<number | null>(null);
  const pages = useRef(0);

  useEffect(() => {
    if (!target || handled.current === target.at || !ready || loadingOlder) return;
    const scroller = scrollRef.current;
    if (!scroller) return;
    const row = scroller.querySelector<HTMLElement>(`li.msg[data-seq="${target.seq}"]`);
    if (row) {
      handled.current = target.at;
      pages.current = 0;
      scroller.querySelectorAll('[data-focused]').forEach((el) => el.removeAttribute('data-focused'));
      row.setAttribute('data-focused', '');
      row.scrollIntoView({ block: 'center' });
      return;
    }
    if (!timeline.hasOlder || pages.current >= MAX_PAGES) {
      handled.current = target.at;
      pages.current = 0;
      onMissing();
      return;
    }
    pages.current += 1;
    loadOlder();
  }, [target, timeline, ready, loadingOlder, loadOlder, scrollRef, onMissing]);
}
