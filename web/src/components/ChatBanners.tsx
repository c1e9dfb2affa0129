/** Shown while a socket that was open tries to open again. */
export function ReconnectingBanner({ lastClose, onRetry }: { lastClose: { code: number } | null; onRetry: () => void }) {
  return (
    <div className="banner banner-warn" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>Reconnecting…</span>
      {lastClose && lastClose.code === 4008 && <span className="muted small">The connection fell behind; catching up.</span>}
      <button type="button" className="btn btn-link" onClick={onRetry}>
        Retry now
      </button>
    </div>
  );
}

/** What went wrong, until the reader dismisses it. */
export function ErrorBanner({ message, onDismiss }: { message: string; onDismiss: () => void }) {
  return (
    <div className="banner banner-error" role="alert">
      <span>{message}</span>
      <button type="button" className="btn btn-link" onClick={onDismiss} aria-label="Dismiss error">
        Dismiss
      </button>
    </div>
  );
}
