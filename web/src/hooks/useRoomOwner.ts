import { useEffect, useState } from 'react';
import type { Api } from '../lib/api';

/** Whether the reader owns the room (the owner may delete anyone's message), asked again when
 * `version` changes (ownership passed on). Until the answer comes, or if it fails, the reader is
 * taken for a member: at worst a Delete button is missing, never one the server would refuse. */
export function useRoomOwner(api: Api, roomId: string, userId: string, version: number): boolean {
  const [owner, setOwner] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    api
      .members(roomId)
      .then((members) => {
        if (!cancelled) setOwner(members.find((m) => m.role === 'owner')?.user_id ?? null);
      })
      .catch(() => {
        if (!cancelled) setOwner(null);
      });
    return () => {
      cancelled = true;
    };
  }, [api, roomId, version]);
  return !!userId && owner === userId;
}
