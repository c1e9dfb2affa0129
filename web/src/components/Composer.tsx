import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { validateMessage } from '../lib/validate';
import { SendIcon } from './Icons';

/** At most one typing notice per this long while the draft changes. */
const TYPING_SEND_EVERY_MS = 3_000;
/** The message box grows with its text up to this height (px). */
const MAX_HEIGHT_PX = 160;

interface Props {
  /** The box takes the focus whenever a room opens. */
  roomId: string;
  placeholder: string;
  /** The id of what tells the connection's state, for screen readers. */
  describedBy: string;
  /** A valid message to send. */
  onSend: (content: string) => void;
  /** Why a non-blank draft cannot be sent. */
  onInvalid: (problem: string) => void;
  /** Tells the room the reader is typing; answers whether it went out. */
  sendTyping: () => boolean;
  /** The box's name ("Message", or "Reply" in a thread). */
  label?: string;
}

/** The message box: Enter sends, Shift+Enter breaks the line. */
export function Composer({ roomId, placeholder, describedBy, onSend, onInvalid, sendTyping, label = 'Message' }: Props) {
  const [draft, setDraft] = useState('');
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const lastTypingSent = useRef(0);
  const id = useId();

  useEffect(() => {
    inputRef.current?.focus();
  }, [roomId]);

  useLayoutEffect(() => {
    const el = inputRef.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [draft]);

  function send() {
    const content = draft;
    const problem = validateMessage(content);
    if (problem) {
      if (content.trim()) onInvalid(problem);
      return;
    }
    onSend(content);
    setDraft('');
    lastTypingSent.current = 0;
    inputRef.current?.focus();
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    send();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  function onDraftChange(v: string) {
    setDraft(v);
    const now = Date.now();
    if (v && now - lastTypingSent.current >= TYPING_SEND_EVERY_MS && sendTyping()) {
      lastTypingSent.current = now;
    }
  }

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor={id} className="sr-only">
        {label}
      </label>
      <textarea
        id={id}
        ref={inputRef}
        rows={1}
        placeholder={placeholder}
        value={draft}
        onChange={(e) => onDraftChange(e.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={describedBy}
      />
      <button type="submit" className="btn btn-primary send" disabled={!draft.trim()} aria-label={label === 'Message' ? 'Send' : `Send ${label.toLowerCase()}`}>
        <SendIcon />
        <span>Send</span>
      </button>
    </form>
  );
}
