// Caddy, from Debian's `caddy` package, serving deploy/Caddyfile itself, as the compose
// deployment's proxy does: the file's environment placeholders name each role's processes on
// loopback instead of its DNS records, and turn the admin API off (two proxies side by side would
// both want :2019).

import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Proxy {
  /** @type {import('node:child_process').ChildProcess} */
  #proc;
  #exited;
  #home;

  /**
   * Starts Caddy on `port` in front of `upstreams` (a placeholder of the Caddyfile, e.g.
   * `CHAT_PROXY_FANOUT`, to the addresses of its processes) and waits until it answers.
   */
  static async start({ caddyfile, port, upstreams, logPath }) {
    const proxy = new Proxy();
    proxy.baseUrl = `http://127.0.0.1:${port}`;
    proxy.logPath = logPath;
    // Caddy keeps its autosaved config and data under its home: one of its own, removed at stop.
    proxy.#home = mkdtempSync(join(tmpdir(), 'chat-e2e-caddy-'));
    const env = {
      PATH: process.env.PATH,
      HOME: proxy.#home,
      XDG_CONFIG_HOME: join(proxy.#home, 'config'),
      XDG_DATA_HOME: join(proxy.#home, 'data'),
      CHAT_PROXY_PORT: String(port),
      CHAT_PROXY_ADMIN: 'off',
    };
    for (const [placeholder, addresses] of Object.entries(upstreams)) {
      env[placeholder] = `to ${addresses.join(' ')}`;
    }
    const log = createWriteStream(logPath);
    const proc = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', caddyfile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.pipe(log);
    proc.stderr.pipe(log);
    proxy.#proc = proc;
    proxy.#exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    let exited = null;
    void proxy.#exited.then((e) => (exited = e));
    proc.once('error', (e) => (exited = { error: `${e.message} (Debian's caddy: apt-get install caddy)` }));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`caddy exited (${JSON.stringify(exited)}) before serving; see ${logPath}`);
      try {
        // The Caddyfile answers /healthz itself: any answer means Caddy serves.
        await fetch(`${proxy.baseUrl}/healthz`);
        return proxy;
      } catch {
        await sleep(50);
      }
    }
    await proxy.stop();
    throw new Error(`caddy did not serve ${caddyfile} on ${proxy.baseUrl} within 20 s; see ${logPath}`);
  }

  async stop() {
    this.#proc.kill('SIGTERM');
    await this.#exited;
    rmSync(this.#home, { recursive: true, force: true });
  }

  /** Kills Caddy if the test runner itself is going away. */
  killNow() {
    this.#proc.kill('SIGKILL');
  }
}
