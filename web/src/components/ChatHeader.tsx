import type { ReactNode } from 'react';
import type { Room } from '../lib/api';
import { nameList } from '../lib/format';
import type { PresenceUser } from '../lib/protocol';
import type { ConnPhase } from '../lib/reconnect';
import { Avatar } from './Avatar';
import { RoomIcon } from './RoomIcon';

interface Props {
  back: ReactNode;
  room: Room | null;
  title: string;
  titleId: string;
  statusId: string;
  /** `null` until the socket told who is online. */
  online: PresenceUser[] | null;
  historyLoading: boolean;
  phase: ConnPhase;
  reconnecting: boolean;
  leaving: boolean;
  onLeave: () => void;
  /** Who is in the room, behind a button. */
  members: ReactNode;
}

/** The room's name, who is online, the connection's state, and the way out. */
export function ChatHeader({ back, room, title, titleId, statusId, online, historyLoading, phase, reconnecting, leaving, onLeave, members }: Props) {
  const status = connectionStatus(historyLoading, phase, reconnecting);
  return (
    <header className="chat-head">
      {back}
      <div className="chat-title">
        <h1 id={titleId}>
          <span className="room-icon">
            <RoomIcon room={room} lockTitle="Private room" />
          </span>
          <span className="chat-name">{title}</span>
        </h1>
        <div className="presence" aria-live="polite">
          {online === null ? <span className="muted small">&nbsp;</span> : <WhoIsOnline online={online} />}
        </div>
      </div>
      <span className={`conn-pill ${status.className}`} id={statusId}>
        <span className="dot" aria-hidden="true" />
        {status.label}
      </span>
      {members}
      {/* A direct room keeps its two people for good. */}
      {room?.kind !== 'direct' && (
        <button type="button" className="btn btn-ghost btn-small" onClick={onLeave} disabled={leaving}>
          Leave room
        </button>
      )}
    </header>
  );
}

function WhoIsOnline({ online }: { online: PresenceUser[] }) {
  return (
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
  );
}

function connectionStatus(historyLoading: boolean, phase: ConnPhase, reconnecting: boolean): { label: string; className: string } {
  if (historyLoading) return { label: 'Loading…', className: 'connecting' };
  if (phase === 'open') return { label: 'Live', className: 'live' };
  if (reconnecting) return { label: 'Reconnecting…', className: 'reconnecting' };
  if (phase === 'stopped') return { label: 'Offline', className: 'offline' };
  return { label: 'Connecting…', className: 'connecting' };
}
