import { useCallback, useEffect, useId, useReducer, useRef, useState, type ReactNode } from 'react';
import type { Session } from '../App';
import { MessageActionsContext, useMessageActions } from '../hooks/useMessageActions';
import { useMessageFocus, type FocusTarget } from '../hooks/useMessageFocus';
import { useOlderMessages } from '../hooks/useOlderMessages';
import { useReadReceipts } from '../hooks/useReadReceipts';
import { useRoomPresence } from '../hooks/useRoomPresence';
import { useRoomOwner } from '../hooks/useRoomOwner';
import { useRoomStream } from '../hooks/useRoomStream';
import { useThread } from '../hooks/useThread';
import { useTimelineScroll } from '../hooks/useTimelineScroll';
import { errorMessage, type Api, type Room } from '../lib/api';
import type { MessageChange } from '../lib/messageChanges';
import { emptyTimeline, newClientMsgId, timelineReducer, type MemberItem, type TimelineAction } from '../lib/messages';
import { typingFrame, typingText, type ServerFrame } from '../lib/protocol';
import type { Receipt } from '../lib/reads';
import { closeMessage, type ConnState } from '../lib/reconnect';
import { ErrorBanner, ReconnectingBanner } from './ChatBanners';
import { ChatHeader } from './ChatHeader';
import { Composer } from './Composer';
import { MembersMenu } from './MembersMenu';
import { RoomTimeline } from './RoomTimeline';
import { ThreadPanel } from './ThreadPanel';

interface Props {
  api: Api;
  session: Session;
  roomId: string;
  room: Room | null;
  back: ReactNode;
  onForbidden: (why: string) => void;
  onNotFound: () => void;
  onLeft: () => void;
  /** The server refused the token this stream's tickets came from. */
  onSessionEnded: (token: string) => void;
  /** Someone joined or left: the room list's member counts are out of date. */
  onMembersChanged: (seq: number | null) => void;
  /** The reader marked the room read up to `seq`. */
  onRead: (seq: number) => void;
  /** A message to open the room at (a search result). */
  focus: FocusTarget | null;
}

/** One room, live: its history, what arrives on its socket, and the message box. */
export function ChatView({ api, session, roomId, room, back, onForbidden, onNotFound, onLeft, onSessionEnded, onMembersChanged, onRead, focus }: Props) {
  const [tl, dispatch] = useReducer(timelineReducer, undefined, emptyTimeline);
  const [banner, setBanner] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const ids = { head: useId(), status: useId() };
  const presence = useRoomPresence();
  const { presenceChanged, startedTyping, stoppedTyping, forget } = presence;
  const thread = useThread(api, roomId);
  const { onRoomAction } = thread;
  // Bumped when ownership passes on, to ask who owns the room again.
  const [roles, setRoles] = useState(0);
  const isOwner = useRoomOwner(api, roomId, session.userId, roles);

  const self = { user_id: session.userId, username: session.username };
  const tlRef = useRef(tl);
  tlRef.current = tl;
  // What the frame handler reads, without reopening the socket when it changes.
  const handlers = useRef({ onMembersChanged, self });
  handlers.current = { onMembersChanged, self };
  // Read receipts are kept below the stream, which needs this handler first.
  const readFrames = useRef<(r: Receipt) => void>(() => {});

  useEffect(() => {
    document.title = room ? `${room.name} · Chat` : 'Chat';
    return () => {
      document.title = 'Chat';
    };
  }, [room?.name]);

  // What the socket says about messages goes to the room's list and to the open thread.
  const toBoth = useCallback(
    (a: TimelineAction) => {
      dispatch(a);
      onRoomAction(a);
    },
    [onRoomAction],
  );

  const onFrame = useCallback(
    (f: ServerFrame) => {
      const me = handlers.current.self;
      switch (f.type) {
        case 'message':
          toBoth({ type: 'message', message: f.message });
          stoppedTyping(f.message.user_id);
          break;
        case 'message_changed':
          toBoth({ type: 'change', change: f.change });
          break;
        case 'member_role_changed':
          setRoles((v) => v + 1);
          break;
        case 'ack':
          dispatch({ type: 'ack', client_msg_id: f.client_msg_id, id: f.id, seq: f.seq, room_id: roomId, self: me });
          break;
        case 'error': {
          // An error about a message is shown on that message; anything else goes in the banner.
          const t = tlRef.current;
          const aboutMessage = f.client_msg_id
            ? t.pending.some((p) => p.client_msg_id === f.client_msg_id)
            : t.pending.some((p) => p.status === 'sending');
          if (!aboutMessage) setBanner(f.detail);
          dispatch({ type: 'send-error', client_msg_id: f.client_msg_id, detail: f.detail });
          break;
        }
        case 'member_joined':
        case 'member_left': {
          const item: MemberItem = {
            kind: 'member',
            event: f.type === 'member_joined' ? 'joined' : 'left',
            id: f.id ?? `member-${f.seq ?? Date.now()}-${f.user_id}`,
            seq: f.seq,
            user_id: f.user_id,
            username: f.username,
            created_at: f.created_at ?? new Date().toISOString(),
          };
          dispatch({ type: 'member', item });
          handlers.current.onMembersChanged(f.seq);
          break;
        }
        case 'typing':
          if ((me.user_id && f.user_id === me.user_id) || f.username === me.username) break;
          startedTyping(f.user_id, f.username);
          break;
        case 'presence':
        case 'presence_changed':
          presenceChanged(f);
          break;
        case 'read':
          readFrames.current(f);
          break;
        default:
          break;
      }
    },
    [roomId, presenceChanged, startedTyping, stoppedTyping, toBoth],
  );

  function onDown(s: ConnState, token: string) {
    if (s.phase === 'reconnecting') forget();
    if (s.phase === 'stopped') {
      if (s.stopReason === 'unauthorized') onSessionEnded(token);
      else if (s.stopReason === 'forbidden') onForbidden('You are not a member of this room.');
      else if (s.stopReason === 'not_found') onNotFound();
      else if (s.stopReason === 'refused') {
        const why = s.lastClose?.reason;
        setBanner(`${closeMessage(4000)}${why ? ` ${why}` : ''} Reload the page to try again.`);
      }
    }
  }

  const stream = useRoomStream({
    api,
    roomId,
    token: session.token,
    timeline: tl,
    dispatch,
    onFrame,
    onDown,
    onForbidden,
    onNotFound,
  });
  const scroll = useTimelineScroll(tl, stream.history.kind);
  const reads = useReadReceipts({ api, roomId, items: tl.items, selfId: session.userId, atBottom: scroll.atBottom, onMarked: onRead });
  readFrames.current = reads.onRead;
  const { loadingOlder, loadOlder } = useOlderMessages({
    api,
    roomId,
    timeline: tl,
    dispatch,
    ready: stream.history.kind === 'ready',
    beforePrepend: scroll.holdPosition,
    onError: setBanner,
  });

  const onFocusMissing = useCallback(() => setBanner('That message is no longer in the room’s history.'), []);
  useMessageFocus({
    target: focus,
    timeline: tl,
    ready: stream.history.kind === 'ready',
    loadingOlder,
    loadOlder: () => void loadOlder(),
    scrollRef: scroll.scrollRef,
    onMissing: onFocusMissing,
  });

  function onScroll() {
    if (scroll.scrolled()) void loadOlder();
    reads.check();
  }

  function send(content: string) {
    setBanner(null);
    dispatch({
      type: 'queue',
      pending: {
        client_msg_id: newClientMsgId(),
        content,
        created_at: new Date().toISOString(),
        status: 'queued',
        error: null,
      },
    });
    scroll.stickToBottom();
  }

  async function leave() {
    if (leaving) return;
    setLeaving(true);
    try {
      await api.leaveRoom(roomId);
      stream.stop();
      onLeft();
    } catch (e) {
      setBanner(`Could not leave the room: ${errorMessage(e)}`);
      setLeaving(false);
    }
  }

  const actions = useMessageActions({
    api,
    roomId,
    self,
    isOwner,
    apply: (change: MessageChange) => toBoth({ type: 'change', change }),
    openThread: thread.open,
    onError: setBanner,
  });
  const parent = thread.parentId ? tl.items.find((x) => x.kind === 'message' && x.id === thread.parentId) : undefined;

  const title = room?.name ?? 'Room';

  return (
    <section className="chat" aria-labelledby={ids.head}>
      <ChatHeader
        back={back}
        room={room}
        title={title}
        titleId={ids.head}
        statusId={ids.status}
        online={presence.online}
        historyLoading={stream.history.kind === 'loading'}
        phase={stream.phase}
        reconnecting={stream.reconnecting}
        leaving={leaving}
        onLeave={() => void leave()}
        members={<MembersMenu api={api} roomId={roomId} selfId={session.userId} />}
      />

      {stream.reconnecting && <ReconnectingBanner lastClose={stream.lastClose} onRetry={stream.nudge} />}
      {banner && <ErrorBanner message={banner} onDismiss={() => setBanner(null)} />}

      <MessageActionsContext.Provider value={actions}>
        <div className={`chat-body${thread.parentId ? ' with-thread' : ''}`}>
          <div className="chat-main">
            <div className="scroller" ref={scroll.scrollRef} onScroll={onScroll}>
              <RoomTimeline
                history={stream.history}
                timeline={tl}
                title={room?.kind === 'direct' ? `your conversation with ${room.name}` : title}
                self={self}
                loadingOlder={loadingOlder}
                onLoadOlder={() => void loadOlder()}
                onReload={stream.reload}
                onRetry={(id) => dispatch({ type: 'retry', client_msg_id: id })}
                onDiscard={(id) => dispatch({ type: 'discard', client_msg_id: id })}
              />
              {reads.seen && (
                <p className="read-receipt muted small" aria-live="polite">
                  {reads.seen}
                </p>
              )}
            </div>

            <div className="typing" aria-live="polite">
              {typingText(presence.typingNames)}
            </div>

            <Composer
              roomId={roomId}
              placeholder={`Message ${room ? (room.is_private ? '' : '#') + room.name : ''}`.trim()}
              describedBy={ids.status}
              onSend={send}
              onInvalid={setBanner}
              sendTyping={() => stream.send(typingFrame())}
            />
          </div>
          {thread.parentId && (
            <ThreadPanel
              parent={parent?.kind === 'message' ? parent : null}
              parentId={thread.parentId}
              timeline={thread.timeline}
              history={thread.history}
              self={self}
              onClose={() => thread.open(null)}
              onReload={thread.reload}
              onSend={thread.send}
              onInvalid={setBanner}
              onRetry={thread.retry}
              onDiscard={thread.discard}
              sendTyping={() => stream.send(typingFrame())}
            />
          )}
        </div>
      </MessageActionsContext.Provider>
    </section>
  );
}
