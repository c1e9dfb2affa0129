/** Client-side checks that mirror the server's rules, so the user hears about a
 * problem before a round trip. The server stays the authority. */

export const USERNAME_RE = /^[A-Za-z0-9_.-]{3,32}$/;

export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** `missing` is what to say when there is no name at all. */
export function validateUsername(username: string, missing = 'Choose a username.'): string | null {
  if (!username) return missing;
  if (username.length < 3 || username.length > 32) return 'Usernames are 3 to 32 characters long.';
  if (!USERNAME_RE.test(username)) return 'Usernames may contain only letters, digits, “_”, “.” and “-”.';
  return null;
}

export function validateCredentials(username: string, password: string): string | null {
  const nameProblem = validateUsername(username);
  if (nameProblem) return nameProblem;
  const bytes = utf8Length(password);
  if (bytes < 8) return 'Passwords need at least 8 characters.';
  if (bytes > 72) return 'Passwords can be at most 72 bytes long.';
  return null;
}

/** The largest message body this client will send (the server refuses frames over 64 KiB). */
export const MAX_MESSAGE_BYTES = 60_000;

export function validateMessage(content: string): string | null {
  if (!content.trim()) return 'Type a message first.';
  if (utf8Length(content) > MAX_MESSAGE_BYTES) return 'That message is too long to send.';
  return null;
}

export function validateRoomName(name: string): string | null {
  if (!name.trim()) return 'Give the room a name.';
  return null;
}
