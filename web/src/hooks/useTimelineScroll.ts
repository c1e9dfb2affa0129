import { useLayoutEffect, useMemo, useRef } from 'react';
import type { Timeline } from '../lib/messages';

/** How close to the bottom (px) still counts as reading the newest messages. */
const STICK_WITHIN_PX = 80;
/** How close to the top (px) asks for the older page. */
const NEAR_TOP_PX = 150;

/**
 * Keeps the message scroller pinned to the newest message while the reader is at the bottom,
 * and steady while an older page is prepended.
 */
export function useTimelineScroll(timeline: Timeline, historyKind: string) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const stickRef = useRef(true);
  const anchorRef = useRef<{ height: number; top: number } | null>(null);

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
  }, [timeline.items, timeline.pending, historyKind]);

  // Stable, so callbacks built on them are too.
  const controls = useMemo(
    () => ({
      /** Call on every scroll; answers whether the reader is near the top. */
      scrolled(): boolean {
        const el = scrollRef.current;
        if (!el) return false;
        stickRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_WITHIN_PX;
        return el.scrollTop < NEAR_TOP_PX;
      },
      /** Call right before an older page is prepended: the reader keeps seeing what they saw. */
      holdPosition() {
        const el = scrollRef.current;
        if (el) anchorRef.current = { height: el.scrollHeight, top: el.scrollTop };
      },
      /** Whether the newest messages are on screen. */
      atBottom(): boolean {
        return stickRef.current;
      },
      /** The reader sent a message: show the newest from now on. */
      stickToBottom() {
        stickRef.current = true;
      },
    }),
    [],
  );

  return { scrollRef, ...controls };
}
