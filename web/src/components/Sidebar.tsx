import { useId, useState, type ReactNode } from 'react';
import type { Session, SessionActions } from '../App';
import type { Api, Room } from '../lib/api';
import { badgeText, shownUnread, type ReadState } from '../lib/reads';
import type { SearchHit } from '../lib/search';
import { filterRooms, groupRooms, roomMeta } from '../lib/rooms';
import { roomPath } from '../lib/route';
import { navigate } from '../router';
import { CreateRoomForm } from './CreateRoomForm';
import { DirectMessageForm } from './DirectMessageForm';
import { Logo } from './Icons';
import { AccountMenu } from './AccountMenu';
import { RoomIcon } from './RoomIcon';
import { SearchPanel } from './SearchPanel';

interface Props {
  api: Api;
  session: Session;
  rooms: Room[] | null;
  roomsError: string | null;
  activeId: string | null;
  /** How far the user read each room, as the server says, and as this client marked since. */
  reads: ReadonlyMap<string, ReadState>;
  marked: ReadonlyMap<string, number>;
  actions: SessionActions;
  onCreated: (room: Room) => void;
  onRetry: () => void;
  onOpenMessage: (hit: SearchHit) => void;
}

export function Sidebar({ api, session, rooms, roomsError, activeId, reads, marked, actions, onCreated, onRetry, onOpenMessage }: Props) {
  const [filter, setFilter] = useState('');
  const [searching, setSearching] = useState(false);
  const unread = (room: Room) => shownUnread(reads.get(room.id), marked.get(room.id), room.id === activeId);

  return (
    <aside className="sidebar" aria-label="Rooms">
      <header className="sidebar-head">
        <div className="brand">
          <Logo />
          <span>Chat</span>
        </div>
        <AccountMenu session={session} actions={actions} />
      </header>

      <div className="sidebar-body">
        <SearchPanel api={api} rooms={rooms} onOpen={onOpenMessage} onActive={setSearching} />
        {!searching && (
          <RoomList
            api={api}
            rooms={rooms}
            roomsError={roomsError}
            activeId={activeId}
            unread={unread}
            filter={filter}
            onFilter={setFilter}
            onRetry={onRetry}
          />
        )}
      </div>

      <CreateRoomForm api={api} onCreated={onCreated} />
    </aside>
  );
}

/** The rooms, filtered by name: direct messages, mine, then the others. */
function RoomList({
  api,
  rooms,
  roomsError,
  activeId,
  unread,
  filter,
  onFilter,
  onRetry,
}: Pick<Props, 'api' | 'rooms' | 'roomsError' | 'activeId' | 'onRetry'> & {
  unread: (room: Room) => number;
  filter: string;
  onFilter: (filter: string) => void;
}) {
  const filterId = useId();
  const shown = rooms ? filterRooms(rooms, filter) : null;
  const groups = shown ? groupRooms(shown) : null;
  return (
    <>
      <div className="room-filter">
        <label htmlFor={filterId} className="sr-only">
          Filter rooms
        </label>
        <input
          id={filterId}
          type="search"
          placeholder="Filter rooms"
          value={filter}
          onChange={(e) => onFilter(e.target.value)}
        />
      </div>

      {roomsError && (
        <div className="alert alert-error" role="alert">
          <span>Could not load rooms: {roomsError}</span>
          <button type="button" className="btn btn-link" onClick={onRetry}>
            Try again
          </button>
        </div>
      )}

      {!groups ? (
        !roomsError && (
          <p className="muted pad" role="status">
            Loading rooms…
          </p>
        )
      ) : (
        <nav aria-label="Room list">
          <RoomGroup
            title="Direct messages"
            rooms={groups.direct}
            activeId={activeId}
            unread={unread}
            empty={filter ? 'No direct message matches.' : 'No direct messages yet.'}
          >
            <DirectMessageForm api={api} />
          </RoomGroup>
          <RoomGroup
            title="Your rooms"
            rooms={groups.mine}
            activeId={activeId}
            unread={unread}
            empty="You have not joined any room yet."
          />
          <RoomGroup
            title="Other rooms"
            rooms={groups.other}
            activeId={activeId}
            unread={() => 0}
            empty={filter ? 'No other room matches.' : 'No other rooms yet.'}
          />
        </nav>
      )}
    </>
  );
}

interface GroupProps {
  title: string;
  rooms: Room[];
  activeId: string | null;
  unread: (room: Room) => number;
  empty: string;
  /** What follows the list, such as the way to add to it. */
  children?: ReactNode;
}

function RoomGroup({ title, rooms, activeId, unread, empty, children }: GroupProps) {
  const headId = useId();
  return (
    <section className="room-group" aria-labelledby={headId}>
      <h2 id={headId} className="group-title">
        {title} <span className="count">{rooms.length}</span>
      </h2>
      {rooms.length === 0 ? (
        <p className="muted small pad">{empty}</p>
      ) : (
        <ul className="room-list">
          {rooms.map((r) => (
            <li key={r.id}>
              <RoomButton room={r} active={r.id === activeId} unread={unread(r)} />
            </li>
          ))}
        </ul>
      )}
      {children}
    </section>
  );
}

function RoomButton({ room, active, unread }: { room: Room; active: boolean; unread: number }) {
  const metaId = `room-meta-${room.id}`;
  return (
    <button
      type="button"
      className={`room-item${active ? ' active' : ''}${room.is_member === false ? ' not-member' : ''}`}
      aria-label={room.name}
      aria-describedby={metaId}
      aria-current={active ? 'page' : undefined}
      onClick={() => navigate(roomPath(room.id))}
    >
      <span className="room-icon">
        <RoomIcon room={room} />
      </span>
      <span className="room-text">
        <span className="room-name">{room.name}</span>
        <span className="room-meta" id={metaId}>
          {roomMeta(room)}
          {unread > 0 && <span className="sr-only">, {unread} unread</span>}
        </span>
      </span>
      {unread > 0 && (
        <span className="unread-badge" aria-hidden="true">
          {badgeText(unread)}
        </span>
      )}
    </button>
  );
}
