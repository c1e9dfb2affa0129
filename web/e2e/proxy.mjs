// Caddy, from Debian's `caddy` package, serving deploy/Caddyfile itself, as the compose
// deployment's proxy does: the file's environment placeholders name each role's processes on
// loopback instead of its DNS records, and turn the admin API off (two proxies side by side would
// both want :2019).

import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** How long Caddy may take to start serving. */
const START_WITHIN_MS = 20_000;

/** How many ports Caddy is started on before the suite gives up. */
const PORT_ATTEMPTS = 5;

export class Proxy {
  /** @type {import('node:child_process').ChildProcess} */
  #proc;
  #exited;
  #home;
  #log;

  /**
   * Starts Caddy on a free port (`freePort()` picks one) in front of `upstreams` (a placeholder
   * of the Caddyfile, e.g. `CHAT_PROXY_FANOUT`, to the addresses of its processes) and waits
   * until it serves.
   *
   * Caddy cannot be asked which port it got, so the port is probed free first; another process
   * may bind it in between, and then Caddy exits and is started again on another.
   */
  static async start({ caddyfile, freePort, upstreams, logPath }) {
    const log = createWriteStream(logPath);
    const exits = [];
    try {
      while (exits.length < PORT_ATTEMPTS) {
        const port = await freePort();
        const outcome = await Proxy.#startOn({ caddyfile, port, upstreams, log });
        if (outcome instanceof Proxy) return outcome;
        exits.push(`port ${port}: ${outcome}`);
        log.write(`===== caddy exited on port ${port} before serving: ${outcome}\n`);
      }
    } catch (e) {
      log.end();
      throw e;
    }
    log.end();
    throw new Error(`caddy did not serve ${caddyfile} (${exits.join('; ')}); see ${logPath}`);
  }

  /** Starts Caddy on `port`; answers the Proxy once it serves, or how it exited before. */
  static async #startOn({ caddyfile, port, upstreams, log }) {
    const proxy = new Proxy();
    proxy.baseUrl = `http://127.0.0.1:${port}`;
    proxy.#log = log;
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
    const proc = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', caddyfile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proxy.#proc = proc;
    // 'close' comes after the last of its output, so nothing is written to the log once it ends.
    proxy.#exited = new Promise((r) => proc.once('close', (code, signal) => r({ code, signal })));
    const unstartable = new Promise((r) => proc.once('error', (e) => r({ error: e.message })));
    // Caddy logs this line once every listener is bound: an answer on the port before it could
    // come from whoever else holds it.
    const served = new Promise((resolveServed) => {
      for (const stream of [proc.stdout, proc.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          log.write(`${line}\n`);
          if (line.includes('serving initial configuration')) resolveServed(true);
        });
      }
    });
    let timer;
    const patience = new Promise((r) => (timer = setTimeout(() => r('timeout'), START_WITHIN_MS)));
    const outcome = await Promise.race([served, proxy.#exited, unstartable, patience]);
    clearTimeout(timer);
    if (outcome === true) return proxy;
    if (outcome === 'timeout') {
      await proxy.#halt();
      throw new Error(`caddy did not serve ${caddyfile} on ${proxy.baseUrl} within ${START_WITHIN_MS / 1000} s`);
    }
    rmSync(proxy.#home, { recursive: true, force: true });
    if (outcome.error) {
      throw new Error(`caddy did not start: ${outcome.error} (Debian's caddy: apt-get install caddy)`);
    }
    return JSON.stringify(outcome);
  }

  async stop() {
    await this.#halt();
    this.#log.end();
  }

  async #halt() {
    this.#proc.kill('SIGTERM');
    await this.#exited;
    rmSync(this.#home, { recursive: true, force: true });
  }

  /** Kills Caddy if the test runner itself is going away. */
  killNow() {
    this.#proc.kill('SIGKILL');
  }
}
