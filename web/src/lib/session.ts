/** Which refusals of a token end the session. A refusal is about the token that was refused: once
 * a newer token replaced it (a password change answers one) it ends nothing. And a password
 * change revokes the current token before its answer brings the next, so while one is under
 * way a refusal waits for it to settle before it counts. */
export class SessionGuard {
  private renewal: Promise<void> | null = null;

  constructor(
    private readonly currentToken: () => string | null,
    private readonly endSession: () => void,
  ) {}

  /** The server refused `token` (a 401, a socket closed with 4001). */
  async refused(token: string): Promise<void> {
    await this.renewal;
    if (this.currentToken() === token) this.endSession();
  }

  /** Goes on with the token `renewing` answers (`adopt` makes it the current one); refusals of
   * the old token meanwhile wait for it. Rejects as `renewing` does. */
  async renew(renewing: Promise<string>, adopt: (token: string) => void): Promise<void> {
    const renewed = renewing.then(adopt);
    const settled = renewed.catch(() => {});
    this.renewal = settled;
    try {
      await renewed;
    } finally {
      if (this.renewal === settled) this.renewal = null;
    }
  }
}
