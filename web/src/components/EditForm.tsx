import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { errorMessage } from '../lib/api';
import { validateMessage } from '../lib/validate';

interface Props {
  initial: string;
  /** Saves the text; rejects with why it could not. */
  onSave: (content: string) => Promise<void>;
  onDone: () => void;
}

/** A message's text in a box: Enter saves, Shift+Enter breaks the line, Escape cancels. It stays
 * open, saying why, when the server refuses. */
export function EditForm({ initial, onSave, onDone }: Props) {
  const [draft, setDraft] = useState(initial);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  const id = useId();

  useEffect(() => {
    const el = box.current;
    el?.focus();
    el?.setSelectionRange(el.value.length, el.value.length);
  }, []);

  async function save() {
    if (saving) return;
    if (draft === initial) return onDone();
    const problem = validateMessage(draft);
    if (problem) return setError(problem);
    setSaving(true);
    setError(null);
    try {
      await onSave(draft);
      onDone();
    } catch (e) {
      setError(errorMessage(e));
      setSaving(false);
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void save();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Escape') {
      e.preventDefault();
      onDone();
    } else if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void save();
    }
  }

  return (
    <form className="edit-form" onSubmit={onSubmit}>
      <label htmlFor={id} className="sr-only">
        Edit message
      </label>
      <textarea id={id} ref={box} rows={2} value={draft} disabled={saving} onChange={(e) => setDraft(e.target.value)} onKeyDown={onKeyDown} />
      {error && (
        <p className="error-text small" role="alert">
          {error}
        </p>
      )}
      <div className="edit-buttons">
        <button type="button" className="btn btn-secondary btn-small" onClick={onDone} disabled={saving}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary btn-small" disabled={saving || !draft.trim()}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}
