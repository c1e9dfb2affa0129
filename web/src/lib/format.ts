/** Date formatting for the timeline. */

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

export function parseTime(iso: string): Date | null {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t);
}

/** "14:05" in the user's locale. */
export function formatTime(iso: string, locale?: string): string {
  const d = parseTime(iso);
  if (!d) return '';
  return d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
}

/** "Today", "Yesterday", or a date like "Mon, 3 Mar 2025". */
export function formatDay(iso: string, now: Date = new Date(), locale?: string): string {
  const d = parseTime(iso);
  if (!d) return '';
  const diff = Math.round((startOfDay(now) - startOfDay(d)) / 86_400_000);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return d.toLocaleDateString(locale, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric',
  });
}

/** Whether two timestamps fall on different local days (a day separator goes between them). */
export function differentDay(a: string | undefined, b: string): boolean {
  if (!a) return true;
  const da = parseTime(a);
  const db = parseTime(b);
  if (!da || !db) return false;
  return startOfDay(da) !== startOfDay(db);
}

/** "alice, bob and 3 more" style list. */
export function nameList(names: string[], max = 3): string {
  if (names.length <= max) {
    if (names.length <= 1) return names.join('');
    return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  }
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
