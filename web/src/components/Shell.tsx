import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Session, SessionActions } from '../App';
import type { FocusTarget } from '../hooks/useMessageFocus';
import { errorMessage, type Api, type Room } from '../lib/api';
import type { ReadState } from '../lib/reads';
import { behindRooms, withDirectRooms, withMembership } from '../lib/rooms';
import type { SearchHit } from '../lib/search';
import { parseRoute, roomPath } from '../lib/route';
import { navigate, useMediaQuery, usePathname } from '../router';
import { Sidebar } from './Sidebar';
import { RoomPane } from './RoomPane';
import { Logo } from './Icons';

interface Props {
  api: Api;
  session: Session;
  actions: SessionActions;
}

/** How often unread counts are asked for. */
const UNREAD_EVERY_MS = 10_000;

export function Shell({ api, session, actions }: Props) {
  const pathname = usePathname();
  const route = parseRoute(pathname);
  const narrow = useMediaQuery('(max-width: 760px)');

  const [rawRooms, setRawRooms] = useState<Room[] | null>(null);
  // The caller's own rooms: who is a member where, and the direct rooms only this list holds.
  const [own, setOwn] = useState<Room[] | null>(null);
  // Memberships this client just changed, stamped so that only a room list fetched
  // after the change can supersede them.
  const [overrides, setOverrides] = useState<Map<string, { member: boolean; stamp: number }>>(() => new Map());
  const [roomsError, setRoomsError] = useState<string | null>(null);
  // How far the user read each room, as the server last said; and how far this client marked
  // read since, which the server's counts may not show yet.
  const [reads, setReads] = useState<Map<string, ReadState>>(() => new Map());
  const [marked, setMarked] = useState<Map<string, number>>(() => new Map());
  const loading = useRef(false);
  const again = useRef(false);
  const stamp = useRef(0);
  // Seqs seen live per room that the list should reflect (member counts), and the bounded
  // follow-up refreshes that wait for the read tables to catch up with them.
  const wanted = useRef(new Map<string, number>());
  const catchUp = useRef<{ timer: number | null; tries: number }>({ timer: null, tries: 0 });

  const refreshRooms = useCallback(async () => {
    if (loading.current) {
      again.current = true;
      return;
    }
    loading.current = true;
    try {
      do {
        again.current = false;
        const startedAt = ++stamp.current;
        const [all, own] = await Promise.allSettled([api.listRooms(), api.myRooms()]);
        if (all.status === 'fulfilled') {
          setRawRooms(all.value);
          setRoomsError(null);
        } else {
          setRoomsError(errorMessage(all.reason));
        }
        // /users/me/rooms only fills in is_member where /rooms/ leaves it out; if it fails,
        // the list still works (a refused room then shows the Join prompt).
        if (own.status === 'fulfilled') {
          setOwn(own.value.rooms);
          setReads(own.value.reads);
        }
        if (all.status === 'fulfilled') {
          setOverrides((m) => {
            const kept = new Map([...m].filter(([, o]) => o.stamp > startedAt));
            return kept.size === m.size ? m : kept;
          });
          wanted.current = behindRooms(all.value, wanted.current);
        }
      } while (again.current);
    } finally {
      loading.current = false;
    }
    const c = catchUp.current;
    if (wanted.current.size === 0 || c.tries >= 5) {
      wanted.current.clear();
      return;
    }
    if (c.timer === null) {
      c.timer = window.setTimeout(() => {
        c.timer = null;
        void refreshRoomsRef.current();
      }, 150 * 2 ** c.tries++);
    }
  }, [api]);
  const refreshRoomsRef = useRef(refreshRooms);
  refreshRoomsRef.current = refreshRooms;

  const onRoomEvent = useCallback(
    (roomId: string, seq: number | null) => {
      if (seq !== null) wanted.current.set(roomId, Math.max(seq, wanted.current.get(roomId) ?? 0));
      catchUp.current.tries = 0;
      void refreshRooms();
    },
    [refreshRooms],
  );

  // Unread counts move with every message anywhere: ask for them more often than for the rooms.
  useEffect(() => {
    const id = window.setInterval(() => {
      api.myRooms().then(
        (own) => setReads(own.reads),
        () => {},
      );
    }, UNREAD_EVERY_MS);
    return () => window.clearInterval(id);
  }, [api]);

  const onRead = useCallback((roomId: string, seq: number) => {
    setMarked((m) => ((m.get(roomId) ?? 0) >= seq ? m : new Map(m).set(roomId, seq)));
  }, []);

  useEffect(() => {
    void refreshRooms();
    const id = window.setInterval(() => void refreshRooms(), 30_000);
    const onFocus = () => void refreshRooms();
    window.addEventListener('focus', onFocus);
    const c = catchUp.current;
    return () => {
      window.clearInterval(id);
      window.removeEventListener('focus', onFocus);
      if (c.timer !== null) window.clearTimeout(c.timer);
      c.timer = null;
    };
  }, [refreshRooms]);

  const rooms = useMemo(() => {
    if (!rawRooms) return null;
    const o = new Map([...overrides].map(([id, v]) => [id, v.member]));
    const mine = own ? new Set(own.map((r) => r.id)) : null;
    return withMembership(withDirectRooms(rawRooms, own), mine, o);
  }, [rawRooms, own, overrides]);

  const setMember = useCallback((roomId: string, member: boolean) => {
    const st = ++stamp.current;
    setOverrides((m) => new Map(m).set(roomId, { member, stamp: st }));
  }, []);

  const onCreated = useCallback(
    (room: Room) => {
      setRawRooms((rs) => (rs && !rs.some((r) => r.id === room.id) ? [...rs, { ...room, member_count: room.member_count ?? 1 }] : rs));
      setMember(room.id, true);
      navigate(roomPath(room.id));
      void refreshRooms();
    },
    [refreshRooms, setMember],
  );

  // The message a search result opened, in its room.
  const [focus, setFocus] = useState<(FocusTarget & { roomId: string }) | null>(null);
  const openMessage = useCallback((hit: SearchHit) => {
    setFocus({ roomId: hit.roomId, seq: hit.seq, at: Date.now() });
    navigate(roomPath(hit.roomId));
  }, []);

  const activeId = route.name === 'room' ? route.roomId : null;
  // A room opened that the list does not hold yet (a direct message just started): fetch it.
  const roomsRef = useRef(rooms);
  roomsRef.current = rooms;
  useEffect(() => {
    const known = roomsRef.current;
    if (activeId !== null && known !== null && !known.some((r) => r.id === activeId)) void refreshRooms();
  }, [activeId, refreshRooms]);
  const showSidebar = !narrow || route.name !== 'room';
  const showMain = !narrow || route.name === 'room';

  return (
    <div className={`app${narrow ? ' narrow' : ''}`}>
      {showSidebar && (
        <Sidebar
          api={api}
          session={session}
          rooms={rooms}
          roomsError={roomsError}
          activeId={activeId}
          reads={reads}
          marked={marked}
          actions={actions}
          onCreated={onCreated}
          onRetry={() => void refreshRooms()}
          onOpenMessage={openMessage}
        />
      )}
      {showMain && (
        <main className="main" id="main">
          {route.name === 'room' ? (
            <RoomPane
              key={route.roomId}
              api={api}
              session={session}
              roomId={route.roomId}
              room={rooms?.find((r) => r.id === route.roomId) ?? null}
              roomsLoaded={rooms !== null}
              narrow={narrow}
              onMembership={(member) => {
                setMember(route.roomId, member);
                void refreshRooms();
              }}
              onMembersChanged={(seq) => onRoomEvent(route.roomId, seq)}
              onRead={(seq) => onRead(route.roomId, seq)}
              onSessionEnded={actions.sessionEnded}
              focus={focus?.roomId === route.roomId ? focus : null}
            />
          ) : route.name === 'notFound' ? (
            <div className="empty-state">
              <h1>Page not found</h1>
              <p className="muted">There is nothing at {route.path}.</p>
              <button type="button" className="btn btn-secondary" onClick={() => navigate('/')}>
                Back to rooms
              </button>
            </div>
          ) : (
            <div className="empty-state">
              <Logo />
              <h1>Hi {session.username}</h1>
              <p className="muted">Pick a room from the list, or create a new one to start talking.</p>
            </div>
          )}
        </main>
      )}
    </div>
  );
}
