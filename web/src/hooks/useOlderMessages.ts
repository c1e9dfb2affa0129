import { useCallback, useState, type Dispatch } from 'react';
import { errorMessage, type Api } from '../lib/api';
import { oldestSeq, type Timeline, type TimelineAction } from '../lib/messages';
import { HISTORY_PAGE } from './useRoomStream';

interface Options {
  api: Api;
  roomId: string;
  timeline: Timeline;
  dispatch: Dispatch<TimelineAction>;
  /** Whether the newest page is in: older pages come after it. */
  ready: boolean;
  /** Called right before a page is prepended. */
  beforePrepend: () => void;
  onError: (message: string) => void;
}

/** Loads the page before the oldest message shown, one request at a time. */
export function useOlderMessages({ api, roomId, timeline, dispatch, ready, beforePrepend, onError }: Options) {
  const [loading, setLoading] = useState(false);

  const loadOlder = useCallback(async () => {
    if (loading || !timeline.hasOlder || !ready) return;
    const before = oldestSeq(timeline);
    if (before === null) return;
    setLoading(true);
    try {
      const page = await api.messages(roomId, { limit: HISTORY_PAGE, beforeSeq: before });
      beforePrepend();
      dispatch({ type: 'history', messages: page, limit: HISTORY_PAGE, older: true });
    } catch (e) {
      onError(`Could not load older messages: ${errorMessage(e)}`);
    } finally {
      setLoading(false);
    }
  }, [api, roomId, timeline, loading, ready, beforePrepend, dispatch, onError]);

  return { loadingOlder: loading, loadOlder };
}
