/** The connection state machine of a room's WebSocket: when to reconnect, how
 * long to wait (exponential backoff with jitter), when to give up, and the
 * `since` cursor that makes a reconnect resume exactly after the last seq seen. */

export type ConnPhase = 'connecting' | 'open' | 'reconnecting' | 'stopped';

export type StopReason = 'closed' | 'unauthorized' | 'forbidden' | 'not_found' | 'refused';

export interface ConnState {
  phase: ConnPhase;
  /** Failed attempts in a row (0 while a connection is healthy). */
  attempt: number;
  /** The highest seq seen (history or live): the resume cursor. */
  since: number | null;
  /** How long the current `reconnecting` wait lasts. */
  delayMs: number | null;
  stopReason: StopReason | null;
  lastClose: { code: number; reason: string } | null;
  /** When the current connection opened (ms), for deciding that it was stable. */
  openedAt: number | null;
}

export type ConnEvent =
  | { type: 'open'; at: number }
  | { type: 'close'; code: number; reason?: string; at: number }
  | { type: 'seq'; seq: number }
  /** The backoff timer fired: connect again. */
  | { type: 'retry' }
  /** The network came back (or the user asked): skip the rest of the wait. */
  | { type: 'nudge' }
  /** The client closed the connection for good (left the room, logged out). */
  | { type: 'stop' };

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  factor: number;
  /** A connection that stayed open this long resets the backoff. */
  stableMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 500, maxMs: 15_000, factor: 2, stableMs: 5_000 };

export function initialConnState(since: number | null = null): ConnState {
  return {
    phase: 'connecting',
    attempt: 0,
    since,
    delayMs: null,
    stopReason: null,
    lastClose: null,
    openedAt: null,
  };
}

/** Delay before reconnect attempt number `attempt` (1-based): exponential, capped,
 * with "equal jitter" (between half and all of the step) so clients spread out. */
export function backoffDelay(attempt: number, opts: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  const a = Math.max(1, Math.floor(attempt));
  const step = Math.min(opts.maxMs, opts.baseMs * Math.pow(opts.factor, a - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(step / 2 + (step / 2) * r);
}

export type CloseAction = { kind: 'stop'; reason: StopReason } | { kind: 'reconnect' };

/** What a close code means for this client. */
export function closeAction(code: number): CloseAction {
  switch (code) {
    case 4001:
      return { kind: 'stop', reason: 'unauthorized' };
    case 4003:
      return { kind: 'stop', reason: 'forbidden' };
    case 4004:
      return { kind: 'stop', reason: 'not_found' };
    case 4000:
      // The server could not read the request (dialect or cursor): trying again cannot help.
      return { kind: 'stop', reason: 'refused' };
    default:
      // 4008 (too slow), 1009 (frame too big), 1001/1006/1011/1012… : resume with `since`.
      return { kind: 'reconnect' };
  }
}

/** What the login screen says when the server ended the session (token expired or revoked). */
export const SESSION_ENDED = 'Your session has ended. Please log in again.';

/** A short human explanation of a close code, for the status line. */
export function closeMessage(code: number): string | null {
  switch (code) {
    case 4001:
      return SESSION_ENDED;
    case 4003:
      return 'You are not a member of this room.';
    case 4004:
      return 'This room does not exist.';
    case 4000:
      return 'The server refused the connection.';
    case 4008:
      return 'The connection fell behind; catching up…';
    case 1009:
      return 'That message was too large for the server.';
    default:
      return null;
  }
}

export function connReducer(
  s: ConnState,
  e: ConnEvent,
  random: () => number = Math.random,
  opts: BackoffOptions = defaultBackoff,
): ConnState {
  if (s.phase === 'stopped') {
    // Only the cursor still moves; a stopped connection never restarts by itself.
    if (e.type === 'seq' && (s.since === null || e.seq > s.since)) return { ...s, since: e.seq };
    return s;
  }
  switch (e.type) {
    case 'open':
      return { ...s, phase: 'open', delayMs: null, openedAt: e.at };
    case 'close': {
      const lastClose = { code: e.code, reason: e.reason ?? '' };
      const act = closeAction(e.code);
      if (act.kind === 'stop') {
        return { ...s, phase: 'stopped', stopReason: act.reason, lastClose, delayMs: null, openedAt: null };
      }
      const stable = s.phase === 'open' && s.openedAt !== null && e.at - s.openedAt >= opts.stableMs;
      const attempt = (stable ? 0 : s.attempt) + 1;
      return {
        ...s,
        phase: 'reconnecting',
        attempt,
        delayMs: backoffDelay(attempt, opts, random),
        lastClose,
        openedAt: null,
      };
    }
    case 'seq':
      return s.since === null || e.seq > s.since ? { ...s, since: e.seq } : s;
    case 'retry':
      return s.phase === 'reconnecting' ? { ...s, phase: 'connecting', delayMs: null } : s;
    case 'nudge':
      return s.phase === 'reconnecting' ? { ...s, phase: 'connecting', delayMs: null } : s;
    case 'stop':
      return { ...s, phase: 'stopped', stopReason: 'closed', delayMs: null, openedAt: null };
  }
}

/** The v2 WebSocket URL for a room, on the page's own origin, opened with a single-use ticket
 * (`POST /auth/ws-ticket`) rather than the token, which then never appears in a URL. */
export function socketUrl(
  loc: { protocol: string; host: string },
  roomId: string,
  ticket: string,
  since: number | null,
): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams({ ticket, v: '2' });
  if (since !== null) q.set('since', String(since));
  return `${scheme}//${loc.host}/ws/${encodeURIComponent(roomId)}?${q}`;
}
