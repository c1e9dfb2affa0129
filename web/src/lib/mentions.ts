/** Finding the `@username` mentions of a message's text, to draw them apart. The server decides
 * who is mentioned (members of the room, any letter case) and says so in `mentions`; the client
 * only highlights those, so an `@word` naming nobody stays plain text. */

import type { Mention } from './messageShape';

export type Segment = { kind: 'text'; text: string } | { kind: 'mention'; text: string; me: boolean };

/** An `@` at the start or after a character that cannot be in a name, then a name's characters. */
const CANDIDATE = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]+)/g;

/** The text cut into plain runs and mentions of `mentions`; `me` marks the reader's own. */
export function segments(content: string, mentions: Mention[], self: { user_id: string; username: string }): Segment[] {
  if (mentions.length === 0 || !content.includes('@')) return content ? [{ kind: 'text', text: content }] : [];
  const byName = new Map(mentions.map((m) => [m.username.toLowerCase(), m]));
  const out: Segment[] = [];
  let plainFrom = 0;
  for (const match of content.matchAll(CANDIDATE)) {
    let name = match[2]!;
    // "@bob." ends a sentence: the dot is not part of the name unless someone is called that.
    while (name && !byName.has(name.toLowerCase()) && /[._-]$/.test(name)) name = name.slice(0, -1);
    const m = byName.get(name.toLowerCase());
    if (!m) continue;
    const at = match.index + match[1]!.length;
    if (at > plainFrom) out.push({ kind: 'text', text: content.slice(plainFrom, at) });
    const me = (!!self.user_id && m.user_id === self.user_id) || m.username.toLowerCase() === self.username.toLowerCase();
    out.push({ kind: 'mention', text: content.slice(at, at + 1 + name.length), me });
    plainFrom = at + 1 + name.length;
  }
  if (plainFrom < content.length) out.push({ kind: 'text', text: content.slice(plainFrom) });
  return out;
}

/** Whether a message mentions the reader. */
export function mentionsMe(mentions: Mention[], self: { user_id: string; username: string }): boolean {
  const name = self.username.toLowerCase();
  return mentions.some((m) => (!!self.user_id && m.user_id === self.user_id) || m.username.toLowerCase() === name);
}
