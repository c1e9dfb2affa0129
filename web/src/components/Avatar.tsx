/** A coloured initial for a user; the colour is stable per name. */

function hue(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h % 360;
}

export function Avatar({ name, size = 'md' }: { name: string; size?: 'sm' | 'md' }) {
  const initial = (name.trim()[0] ?? '?').toUpperCase();
  return (
    <span className={`avatar avatar-${size}`} style={{ ['--h' as string]: hue(name) }} aria-hidden="true">
      {initial}
    </span>
  );
}
