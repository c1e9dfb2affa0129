import { segments } from '../lib/mentions';
import type { Mention } from '../lib/messageShape';
import type { Self } from '../lib/messages';

/** A message's text as plain text (never HTML), with the mentions the server recorded set apart
 * and the reader's own standing out. */
export function MessageText({ content, mentions, self }: { content: string; mentions: Mention[]; self: Self }) {
  return (
    <>
      {segments(content, mentions, self).map((s, i) =>
        s.kind === 'text' ? (
          s.text
        ) : (
          <span key={i} className={`mention${s.me ? ' mention-me' : ''}`}>
            {s.text}
          </span>
        ),
      )}
    </>
  );
}
