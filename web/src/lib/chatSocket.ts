/** The imperative shell around one room's WebSocket: it follows the pure
 * state machine in reconnect.ts, opens every connection with a fresh single-use ticket, keeps the
 * resume cursor from every frame, and pings so that a silently dead connection is noticed. */

import { ApiError } from './api';
import { frameSeq, parseServerFrame, pingFrame, type ServerFrame } from './protocol';
import { connReducer, initialConnState, socketUrl, type BackoffOptions, type ConnEvent, type ConnState, defaultBackoff } from './reconnect';

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
  now(): number;
}

const realClock: Clock = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (id) => globalThis.clearInterval(id as ReturnType<typeof setInterval>),
  now: () => Date.now(),
};

export interface ChatSocketOptions {
  roomId: string;
  /** Asks the server for a socket ticket; called before every connection, since each works once. */
  ticket: () => Promise<string>;
  /** The highest seq already shown (from history): the stream resumes after it. */
  since: number | null;
  onFrame: (frame: ServerFrame) => void;
  onState: (state: ConnState) => void;
  location?: { protocol: string; host: string };
  createSocket?: SocketFactory;
  clock?: Clock;
  random?: () => number;
  backoff?: BackoffOptions;
  pingIntervalMs?: number;
  /** With no frame at all for this long, the connection is taken as dead. */
  idleTimeoutMs?: number;
}

const OPEN = 1;

export class ChatSocket {
  private ws: SocketLike | null = null;
  private state: ConnState;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private lastFrameAt = 0;
  /** The ticket request under way, if any: a stop or a newer attempt makes its answer moot. */
  private ticketRequest: object | null = null;
  private readonly o: Required<Omit<ChatSocketOptions, 'location'>> & { location: { protocol: string; host: string } };

  constructor(opts: ChatSocketOptions) {
    this.o = {
      ...opts,
      location: opts.location ?? globalThis.location,
      createSocket: opts.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
      clock: opts.clock ?? realClock,
      random: opts.random ?? Math.random,
      backoff: opts.backoff ?? defaultBackoff,
      pingIntervalMs: opts.pingIntervalMs ?? 25_000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 70_000,
    };
    this.state = initialConnState(opts.since);
  }

  get current(): ConnState {
    return this.state;
  }

  /** The resume cursor: the highest seq seen so far. */
  get since(): number | null {
    return this.state.since;
  }

  isOpen(): boolean {
    return this.state.phase === 'open' && !!this.ws && this.ws.readyState === OPEN;
  }

  start(): void {
    if (this.state.phase === 'connecting' && !this.ws && !this.ticketRequest) this.connect();
  }

  /** Writes one frame; false when the socket is not open (the caller keeps it queued). */
  send(data: string): boolean {
    if (!this.isOpen()) return false;
    try {
      this.ws!.send(data);
      return true;
    } catch {
      return false;
    }
  }

  /** Records a seq seen elsewhere (e.g. a history page), so a resume starts after it. */
  noteSeq(seq: number | null): void {
    if (seq !== null) this.dispatch({ type: 'seq', seq });
  }

  /** Reconnect now instead of waiting out the backoff (e.g. the browser went online). */
  nudge(): void {
    if (this.state.phase !== 'reconnecting') return;
    this.clearRetry();
    this.dispatch({ type: 'nudge' });
    this.connect();
  }

  stop(): void {
    this.ticketRequest = null;
    this.clearRetry();
    this.stopPing();
    this.dispatch({ type: 'stop' });
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
  }

  private dispatch(e: ConnEvent): void {
    const next = connReducer(this.state, e, this.o.random, this.o.backoff);
    if (next !== this.state) {
      this.state = next;
      this.o.onState(next);
    }
  }

  private connect(): void {
    const request = {};
    this.ticketRequest = request;
    this.o.ticket().then(
      (ticket) => {
        if (this.ticketRequest !== request) return;
        this.ticketRequest = null;
        this.open(ticket);
      },
      (e: unknown) => {
        if (this.ticketRequest !== request) return;
        this.ticketRequest = null;
        // A refused token ends the session as a 4001 close would; anything else (server down,
        // rate limit) is retried after the back-off like a dropped connection.
        if (e instanceof ApiError && e.status === 401) this.handleClose(4001, e.detail);
        else this.handleClose(1006, `no socket ticket: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }

  private open(ticket: string): void {
    const url = socketUrl(this.o.location, this.o.roomId, ticket, this.state.since);
    let ws: SocketLike;
    try {
      ws = this.o.createSocket(url);
    } catch {
      this.handleClose(1006, 'could not open');
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.lastFrameAt = this.o.clock.now();
      this.dispatch({ type: 'open', at: this.o.clock.now() });
      this.startPing();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = this.o.clock.now();
      const frame = parseServerFrame(ev.data, this.o.roomId);
      if (!frame) return;
      const seq = frameSeq(frame);
      this.o.onFrame(frame);
      if (seq !== null) this.dispatch({ type: 'seq', seq });
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.handleClose(ev.code, ev.reason);
    };
    ws.onerror = () => {
      /* a close event always follows */
    };
  }

  private handleClose(code: number, reason: string): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) this.detach(ws);
    this.stopPing();
    this.dispatch({ type: 'close', code, reason, at: this.o.clock.now() });
    if (this.state.phase === 'reconnecting' && this.state.delayMs !== null) {
      this.clearRetry();
      this.retryTimer = this.o.clock.setTimeout(() => {
        this.retryTimer = null;
        this.dispatch({ type: 'retry' });
        if (this.state.phase === 'connecting') this.connect();
      }, this.state.delayMs);
    }
  }

  private detach(ws: SocketLike): void {
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
  }

  private startPing(): void {
    this.stopPing();
    this.pingTimer = this.o.clock.setInterval(() => {
      if (!this.ws) return;
      if (this.o.clock.now() - this.lastFrameAt >= this.o.idleTimeoutMs) {
        // Nothing heard, not even a pong: the connection is dead without a close.
        const ws = this.ws;
        this.handleClose(1006, 'no answer to ping');
        try {
          ws.close(4000, 'idle');
        } catch {
          /* ignore */
        }
        return;
      }
      this.send(pingFrame());
    }, this.o.pingIntervalMs);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) {
      this.o.clock.clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) {
      this.o.clock.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
  }
}
