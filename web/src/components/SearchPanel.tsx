import { useId, useRef, useState, type FormEvent } from 'react';
import { errorMessage, type Api, type Room } from '../lib/api';
import { highlightSegments, type SearchHit } from '../lib/search';

interface Props {
  api: Api;
  rooms: Room[] | null;
  /** Opens the room of a result at its message. */
  onOpen: (hit: SearchHit) => void;
  /** Whether results are shown (the room list steps aside for them). */
  onActive: (active: boolean) => void;
}

type State =
  | { kind: 'idle' }
  | { kind: 'searching'; q: string }
  | { kind: 'done'; q: string; hits: SearchHit[]; next: string | null; more: boolean }
  | { kind: 'error'; q: string; message: string };

/** A search box over every message the user may read, and its results: each a snippet with the
 * matched words marked, which opens the room at that message. */
export function SearchPanel({ api, rooms, onOpen, onActive }: Props) {
  const [query, setQuery] = useState('');
  const [state, setState] = useState<State>({ kind: 'idle' });
  const inputId = useId();
  const resultsId = useId();
  // Answers to an older search are dropped when they arrive after a newer one started.
  const latest = useRef(0);

  async function run(q: string, cursor: string | null, before: SearchHit[]) {
    const ticket = ++latest.current;
    if (cursor) setState((s) => (s.kind === 'done' ? { ...s, more: true } : s));
    else setState({ kind: 'searching', q });
    try {
      const page = await api.searchMessages(q, { cursor });
      if (ticket !== latest.current) return;
      setState({ kind: 'done', q, hits: [...before, ...page.results], next: page.next, more: false });
    } catch (e) {
      if (ticket !== latest.current) return;
      setState({ kind: 'error', q, message: errorMessage(e) });
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const q = query.trim();
    if (!q) return clear();
    onActive(true);
    void run(q, null, []);
  }

  function clear() {
    latest.current++;
    setQuery('');
    setState({ kind: 'idle' });
    onActive(false);
  }

  const roomName = (id: string) => rooms?.find((r) => r.id === id)?.name ?? 'a room';

  return (
    <div className="message-search">
      <form role="search" aria-label="Search messages" onSubmit={submit}>
        <label htmlFor={inputId} className="sr-only">
          Search messages
        </label>
        <input id={inputId} type="search" placeholder="Search messages" value={query} onChange={(e) => setQuery(e.target.value)} />
      </form>
      {state.kind !== 'idle' && (
        <section className="search-results" aria-labelledby={resultsId}>
          <h2 id={resultsId} className="group-title">
            Results for “{state.q}”
            <button type="button" className="btn btn-link small" onClick={clear}>
              Clear
            </button>
          </h2>
          {state.kind === 'searching' && (
            <p className="muted pad" role="status">
              Searching…
            </p>
          )}
          {state.kind === 'error' && (
            <p className="alert alert-error" role="alert">
              {state.message}
            </p>
          )}
          {state.kind === 'done' && (
            <>
              {state.hits.length === 0 && <p className="muted small pad">No message matches.</p>}
              <ul className="room-list" aria-label="Search results">
                {state.hits.map((hit) => (
                  <li key={`${hit.roomId}:${hit.seq}`}>
                    <button type="button" className="room-item search-hit" onClick={() => onOpen(hit)}>
                      <span className="room-text">
                        <span className="room-meta">
                          {hit.message.username} in {roomName(hit.roomId)}
                        </span>
                        <Snippet hit={hit} />
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
              {state.next && (
                <button type="button" className="btn btn-link" disabled={state.more} onClick={() => void run(state.q, state.next, state.hits)}>
                  {state.more ? 'Loading…' : 'More results'}
                </button>
              )}
            </>
          )}
        </section>
      )}
    </div>
  );
}

/** The snippet as text, each highlight in a <mark>: React escapes every run, so nothing in a
 * message is ever read as markup. */
function Snippet({ hit }: { hit: SearchHit }) {
  return (
    <span className="search-snippet">
      {highlightSegments(hit.snippet, hit.highlights).map((s, i) => (s.marked ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
    </span>
  );
}
