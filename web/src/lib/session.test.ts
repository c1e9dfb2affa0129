import { describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import { SessionGuard } from './session';

function setup(token: string | null = 'old') {
  const state = { token };
  const ended = vi.fn(() => {
    state.token = null;
  });
  const guard = new SessionGuard(() => state.token, ended);
  const adopt = (t: string) => {
    state.token = t;
  };
  return { state, ended, guard, adopt };
}

/** A request under way, answered when the test says. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe('SessionGuard', () => {
  it('a refusal of the current token ends the session', async () => {
    const { ended, guard } = setup();
    await guard.refused('old');
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('a refusal of a token already replaced, or already forgotten, ends nothing', async () => {
    const { ended, guard, state } = setup('new');
    await guard.refused('old');
    state.token = null;
    await guard.refused('new');
    expect(ended).not.toHaveBeenCalled();
  });

  it('during a password change, the old token’s refusal waits, then counts for nothing once the new one is adopted', async () => {
    const { ended, guard, state, adopt } = setup();
    const answer = deferred<string>();
    const changing = guard.renew(answer.promise, adopt);
    // The server revoked the old token before answering: its socket closes with 4001 first.
    const refusal = guard.refused('old');
    await Promise.resolve();
    expect(ended).not.toHaveBeenCalled();
    answer.resolve('new');
    await changing;
    await refusal;
    expect(state.token).toBe('new');
    expect(ended).not.toHaveBeenCalled();
    // Later refusals are judged at once again: the new token's ends the session.
    await guard.refused('new');
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('a refused password change rejects as the server did, and then the old token’s refusal counts', async () => {
    const { ended, guard, state, adopt } = setup();
    const answer = deferred<string>();
    const changing = guard.renew(answer.promise, adopt);
    const refusal = guard.refused('old');
    answer.reject(new ApiError(403, 'Incorrect current password', 'invalid_current_password'));
    await expect(changing).rejects.toMatchObject({ status: 403 });
    await refusal;
    expect(state.token).toBeNull();
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('a token that cannot be adopted fails the change like a refusal would', async () => {
    const { guard } = setup();
    const changing = guard.renew(Promise.resolve('garbled'), () => {
      throw new Error('The server returned a token this client cannot read');
    });
    await expect(changing).rejects.toThrow(/cannot read/);
  });
});
