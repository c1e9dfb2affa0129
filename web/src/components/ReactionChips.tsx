import { nameList } from '../lib/format';
import { reacted } from '../lib/messageChanges';
import type { Reaction } from '../lib/messageShape';

/** Who reacted, as far as the server lists them ("alice, bob and 12 more"). */
export function reactorsText(r: Reaction): string {
  const shown = r.usernames.slice(0, 10);
  const more = r.count - shown.length;
  if (more <= 0) return nameList(shown, 10);
  return `${shown.join(', ')} and ${more} more`;
}

interface Props {
  reactions: Reaction[];
  username: string;
  onToggle: (emoji: string, on: boolean) => void;
}

/** A message's reactions in first-use order: each a button with its count that adds the
 * reader's own or takes it back; hovering (or a screen reader) tells who reacted. */
export function ReactionChips({ reactions, username, onToggle }: Props) {
  if (reactions.length === 0) return null;
  return (
    <ul className="reactions" aria-label="Reactions">
      {reactions.map((r) => {
        const mine = reacted(r, username);
        const who = reactorsText(r);
        return (
          <li key={r.emoji}>
            <button
              type="button"
              className={`chip${mine ? ' mine' : ''}`}
              aria-pressed={mine}
              aria-label={`${r.emoji} ${r.count}: ${who}`}
              title={who}
              onClick={() => onToggle(r.emoji, !mine)}
            >
              <span aria-hidden="true">{r.emoji}</span> <span className="chip-count">{r.count}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
