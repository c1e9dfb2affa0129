import { useState } from 'react';
import type { Session } from '../App';
import type { Api, Room } from '../lib/api';
import type { FocusTarget } from '../hooks/useMessageFocus';
import { navigate } from '../router';
import { ChatView } from './ChatView';
import { JoinPanel } from './JoinPanel';
import { BackIcon } from './Icons';

interface Props {
  api: Api;
  session: Session;
  roomId: string;
  room: Room | null;
  roomsLoaded: boolean;
  narrow: boolean;
  onMembership: (member: boolean) => void;
  onMembersChanged: (seq: number | null) => void;
  onRead: (seq: number) => void;
  onSessionEnded: (token: string) => void;
  /** A message to open the room at. */
  focus: FocusTarget | null;
}

/** A room's main pane: the chat for members, a Join prompt for everyone else. */
export function RoomPane({ api, session, roomId, room, roomsLoaded, narrow, onMembership, onMembersChanged, onRead, onSessionEnded, focus }: Props) {
  // Set when the server refuses this user (history 403 or socket 4003), whatever the list said.
  const [refused, setRefused] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);

  if (!roomsLoaded && !room) {
    return (
      <div className="empty-state" role="status">
        <span className="spinner spinner-lg" aria-hidden="true" />
        <p className="muted">Loading room…</p>
      </div>
    );
  }

  if (notFound) {
    return (
      <div className="empty-state">
        <h1>Room not found</h1>
        <p className="muted">This room does not exist, or it was removed.</p>
        <button type="button" className="btn btn-secondary" onClick={() => navigate('/')}>
          Back to rooms
        </button>
      </div>
    );
  }

  const back = narrow ? (
    <button type="button" className="btn btn-ghost btn-icon back" onClick={() => navigate('/')} aria-label="Back to rooms">
      <BackIcon />
    </button>
  ) : null;

  if (room?.is_member === false || refused !== null) {
    return (
      <JoinPanel
        api={api}
        roomId={roomId}
        room={room}
        reason={refused}
        back={back}
        onJoined={() => {
          setRefused(null);
          onMembership(true);
        }}
        onNotFound={() => setNotFound(true)}
      />
    );
  }

  return (
    <ChatView
      api={api}
      session={session}
      roomId={roomId}
      room={room}
      back={back}
      onForbidden={(why) => setRefused(why)}
      onNotFound={() => setNotFound(true)}
      onLeft={() => {
        onMembership(false);
        navigate('/');
      }}
      onSessionEnded={onSessionEnded}
      onMembersChanged={onMembersChanged}
      onRead={onRead}
      focus={focus}
    />
  );
}
