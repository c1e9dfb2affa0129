import { createContext, useContext, useMemo, useRef } from 'react';
import { errorMessage, type Api } from '../lib/api';
import { editOf, withReaction, type MessageChange } from '../lib/messageChanges';
import type { Message } from '../lib/messageShape';
import type { Self } from '../lib/messages';

/** What a message row may do, and who is asking. */
export interface MessageActions {
  self: Self;
  /** Whether the reader owns the room, and so may delete anyone's message. */
  isOwner: boolean;
  /** Saves a new text; rejects with the server's words. */
  edit: (m: Message, content: string) => Promise<void>;
  /** Deletes a message; rejects with the server's words. */
  remove: (m: Message) => Promise<void>;
  /** Adds the reader's `emoji` (or takes it back when `on` is false) at once; a refusal undoes it. */
  react: (m: Message, emoji: string, on: boolean) => void;
  /** Opens the thread of a message (null closes it). */
  openThread: (messageId: string | null) => void;
}

export const MessageActionsContext = createContext<MessageActions | null>(null);

export function useMessageActionsContext(): MessageActions {
  const v = useContext(MessageActionsContext);
  if (!v) throw new Error('message rows need a MessageActionsContext');
  return v;
}

interface Options {
  api: Api;
  roomId: string;
  self: Self;
  isOwner: boolean;
  /** Applies a change to every list that may show the message (the room and its open thread). */
  apply: (c: MessageChange) => void;
  openThread: (messageId: string | null) => void;
  onError: (message: string) => void;
}

/** The calls behind a message's buttons. An edit or deletion shows once the server took it (it
 * may refuse: someone else's message, a deleted one, too fast); a reaction shows at once, since
 * adding one is idempotent and a refusal is rare, and is undone if refused. */
export function useMessageActions({ api, roomId, self, isOwner, apply, openThread, onError }: Options): MessageActions {
  const latest = useRef({ apply, openThread, onError });
  latest.current = { apply, openThread, onError };

  return useMemo<MessageActions>(
    () => ({
      self,
      isOwner,
      async edit(m, content) {
        const edited = await api.editMessage(roomId, m.id, content);
        latest.current.apply(editOf(edited));
      },
      async remove(m) {
        await api.deleteMessage(roomId, m.id);
        latest.current.apply({ type: 'deleted', message_id: m.id });
      },
      react(m, emoji, on) {
        const change: MessageChange = { type: 'reaction', message_id: m.id, emoji, username: self.username, on };
        if (withReaction(m.reactions, emoji, self.username, on) === m.reactions) return;
        latest.current.apply(change);
        api.react(roomId, m.id, emoji, on).catch((e: unknown) => {
          latest.current.apply({ ...change, on: !on });
          latest.current.onError(`Could not ${on ? 'add' : 'remove'} the reaction ${emoji}: ${errorMessage(e)}`);
        });
      },
      openThread: (id) => latest.current.openThread(id),
    }),
    // `self` by value: the caller builds a new object every render.
    [api, roomId, self.user_id, self.username, isOwner],
  );
}
