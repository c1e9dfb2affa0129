import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';

/** The reactions offered: a handful everyone uses, each one fully-qualified emoji. */
export const REACTION_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '🙏'] as const;

interface Props {
  /** Picks an emoji the reader has not reacted with yet (or takes back one they have). */
  onPick: (emoji: string) => void;
  isMine: (emoji: string) => boolean;
}

/** A button that opens a small row of emoji. Arrow keys move between them, Escape closes and
 * gives the focus back to the button. */
export function EmojiPicker({ onPick, isMine }: Props) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const toggle = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (open) panel.current?.querySelector('button')?.focus();
  }, [open]);

  function close() {
    setOpen(false);
    toggle.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key === 'Escape') {
      e.stopPropagation();
      close();
      return;
    }
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const buttons = [...(panel.current?.querySelectorAll('button') ?? [])];
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = buttons[(i + (e.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
    next?.focus();
    e.preventDefault();
  }

  return (
    <span
      className="picker"
      onBlur={(e) => {
        if (open && !e.currentTarget.contains(e.relatedTarget as Node | null)) setOpen(false);
      }}
    >
      <button
        ref={toggle}
        type="button"
        className="msg-action"
        aria-label="Add reaction"
        title="Add reaction"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        <span aria-hidden="true">☺+</span>
      </button>
      {open && (
        <div id={id} ref={panel} className="picker-panel" role="group" aria-label="Pick a reaction" onKeyDown={onKeyDown}>
          {REACTION_EMOJI.map((emoji) => (
            <button
              key={emoji}
              type="button"
              className={`picker-emoji${isMine(emoji) ? ' mine' : ''}`}
              aria-label={`React with ${emoji}`}
              aria-pressed={isMine(emoji)}
              onClick={() => {
                onPick(emoji);
                close();
              }}
            >
              {emoji}
            </button>
          ))}
        </div>
      )}
    </span>
  );
}
