/** Message search as the client reads it: the server's page of results, read defensively, and a
 * snippet cut into plain and highlighted runs for React to draw as text (never as HTML). */

import { asNumberOrNull, str } from './fields';
import { normalizeMessage, type Message } from './messageShape';

/** A `[start, end)` range of a snippet, in Unicode code points (what the server counts). */
export type Highlight = readonly [number, number];

/** One message a search found, and the text around the match. */
export interface SearchHit {
  roomId: string;
  seq: number;
  snippet: string;
  highlights: Highlight[];
  message: Message;
}

export interface SearchPage {
  results: SearchHit[];
  /** The next page's cursor; null on the last page. */
  next: string | null;
}

function highlight(raw: unknown): Highlight | null {
  if (!Array.isArray(raw) || raw.length !== 2) return null;
  const [start, end] = raw.map(asNumberOrNull);
  return start !== null && end !== null && Number.isInteger(start) && Number.isInteger(end) ? [start, end] : null;
}

function hit(raw: unknown): SearchHit | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  const roomId = str(o.room_id);
  const seq = asNumberOrNull(o.seq);
  const snippet = str(o.snippet);
  if (roomId === null || seq === null || snippet === null) return null;
  const message = normalizeMessage(o.message, roomId);
  if (!message) return null;
  const highlights = (Array.isArray(o.highlights) ? o.highlights : []).map(highlight).filter((h): h is Highlight => h !== null);
  return { roomId, seq, snippet, highlights, message };
}

/** A page from `GET /search/messages`, or null when the answer is not one. */
export function normalizeSearchPage(raw: unknown): SearchPage | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  if (!Array.isArray(o.results)) return null;
  return {
    results: o.results.map(hit).filter((h): h is SearchHit => h !== null),
    next: str(o.next),
  };
}

/** A run of a snippet: highlighted, or not. */
export interface Segment {
  text: string;
  marked: boolean;
}

/** Cuts `snippet` at its highlights, counted in code points. Ranges out of order, overlapping,
 * empty or past the end are clipped or dropped, so whatever the server sent, every character is
 * shown exactly once, in order. */
export function highlightSegments(snippet: string, highlights: readonly Highlight[]): Segment[] {
  const chars = Array.from(snippet);
  const segments: Segment[] = [];
  const push = (from: number, to: number, marked: boolean) => {
    if (to > from) segments.push({ text: chars.slice(from, to).join(''), marked });
  };
  let at = 0;
  for (const [start, end] of [...highlights].sort((a, b) => a[0] - b[0])) {
    const from = Math.max(start, at);
    const to = Math.min(end, chars.length);
    if (to <= from) continue;
    push(at, from, false);
    push(from, to, true);
    at = to;
  }
  push(at, chars.length, false);
  return segments;
}
