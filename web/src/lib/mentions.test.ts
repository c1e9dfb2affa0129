import { describe, expect, it } from 'vitest';
import { mentionsMe, segments } from './mentions';

const me = { user_id: 'u-bob', username: 'bob' };
const bob = { user_id: 'u-bob', username: 'bob' };
const carol = { user_id: 'u-carol', username: 'Carol' };

describe('segments', () => {
  it('sets apart the mentions the server recorded, in any letter case, and marks the reader’s', () => {
    expect(segments('hi @BOB and @carol!', [bob, carol], me)).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', text: '@BOB', me: true },
      { kind: 'text', text: ' and ' },
      { kind: 'mention', text: '@carol', me: false },
      { kind: 'text', text: '!' },
    ]);
  });

  it('leaves an @word naming nobody mentioned, and an e-mail address, as text', () => {
    expect(segments('mail bob@example.com or @dave', [bob], me)).toEqual([{ kind: 'text', text: 'mail bob@example.com or @dave' }]);
  });

  it('ends a name before the punctuation that ends a sentence', () => {
    expect(segments('thanks @bob.', [bob], me)).toEqual([
      { kind: 'text', text: 'thanks ' },
      { kind: 'mention', text: '@bob', me: true },
      { kind: 'text', text: '.' },
    ]);
  });

  it('keeps text that looks like markup as text', () => {
    const text = '<img src=x onerror=alert(1)> @bob';
    const out = segments(text, [bob], me);
    expect(out.map((s) => s.text).join('')).toBe(text);
    expect(out[0]).toEqual({ kind: 'text', text: '<img src=x onerror=alert(1)> ' });
  });

  it('is the whole text, once, when nobody is mentioned', () => {
    expect(segments('@bob', [], me)).toEqual([{ kind: 'text', text: '@bob' }]);
    expect(segments('', [], me)).toEqual([]);
  });
});

describe('mentionsMe', () => {
  it('is true only when the reader is among the mentions', () => {
    expect(mentionsMe([carol, bob], me)).toBe(true);
    expect(mentionsMe([carol], me)).toBe(false);
    expect(mentionsMe([{ user_id: 'x', username: 'BOB' }], { user_id: '', username: 'bob' })).toBe(true);
  });
});
