import type { Room } from '../lib/api';
import { Avatar } from './Avatar';
import { HashIcon, LockIcon } from './Icons';

/** What marks a room in lists and headers: a direct message shows the other person's initial. */
export function RoomIcon({ room, lockTitle }: { room: Room | null; lockTitle?: string }) {
  if (room?.kind === 'direct') return <Avatar name={room.name} size="sm" />;
  return room?.is_private ? <LockIcon title={lockTitle} /> : <HashIcon />;
}
