import { useEffect, useMemo, useState } from 'react';
import { applyPresence, type PresenceUser, type ServerFrame } from '../lib/protocol';

const TYPING_SHOW_MS = 5_000;

interface Typist {
  username: string;
  until: number;
}

/** Who is online in the room and who is typing, as the socket's frames tell it. */
export function useRoomPresence() {
  /** `null` until the socket's first presence frame. */
  const [online, setOnline] = useState<PresenceUser[] | null>(null);
  const [typing, setTyping] = useState<Map<string, Typist>>(() => new Map());

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

  // Stable, so the socket's frame handler can use them without reconnecting.
  const changes = useMemo(
    () => ({
      presenceChanged(f: Extract<ServerFrame, { type: 'presence' | 'presence_changed' }>) {
        setOnline((users) => applyPresence(users, f));
      },
      startedTyping(userId: string, username: string) {
        setTyping((m) => new Map(m).set(userId, { username, until: Date.now() + TYPING_SHOW_MS }));
      },
      /** Their message arrived: they are no longer typing it. */
      stoppedTyping(userId: string) {
        setTyping((m) => {
          if (!m.has(userId)) return m;
          const n = new Map(m);
          n.delete(userId);
          return n;
        });
      },
      /** The socket dropped: what it told is out of date until it reopens. */
      forget() {
        setOnline(null);
        setTyping(new Map());
      },
    }),
    [],
  );

  return { online, typingNames: [...typing.values()].map((t) => t.username), ...changes };
}
