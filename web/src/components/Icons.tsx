/** Small inline SVG icons (decorative: hidden from assistive technology). */

export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="currentColor" />
      <path d="M9 10h14a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1h-7l-4.5 3.5V20H9a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1z" fill="#fff" />
    </svg>
  );
}

export function LockIcon({ title }: { title?: string }) {
  return (
    <svg className="icon icon-lock" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      {title ? <title>{title}</title> : null}
      <path
        d="M5 7V5a3 3 0 0 1 6 0v2h.5A1.5 1.5 0 0 1 13 8.5v5a1.5 1.5 0 0 1-1.5 1.5h-7A1.5 1.5 0 0 1 3 13.5v-5A1.5 1.5 0 0 1 4.5 7H5zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2z"
        fill="currentColor"
      />
    </svg>
  );
}

export function HashIcon() {
  return (
    <svg className="icon icon-hash" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <path
        d="M6.2 2l-.5 3H3v1.5h2.45l-.5 3H2.5V11h2.2l-.5 3h1.5l.5-3h3l-.5 3h1.5l.5-3H13V9.5h-2.55l.5-3H13.5V5h-2.8l.5-3H9.7l-.5 3h-3l.5-3H6.2zm-.5 4.5h3l-.5 3h-3l.5-3z"
        fill="currentColor"
      />
    </svg>
  );
}

export function SendIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
      <path d="M1.5 1.8l13 6.2-13 6.2 1.9-6.2-1.9-6.2zm2.9 6.9L3.5 11.8 11.2 8 3.5 4.2l.9 3.1H9v1.4H4.4z" fill="currentColor" />
    </svg>
  );
}

export function BackIcon() {
  return (
    <svg className="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
      <path d="M10.3 2.3l1.4 1.4L7.4 8l4.3 4.3-1.4 1.4L4.6 8z" fill="currentColor" />
    </svg>
  );
}
