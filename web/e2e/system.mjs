// The real system under test: a fresh PostgreSQL database and the `chat` binary serving the API,
// the WebSocket fan-out and the built client on one origin, in one of two layouts
// (CHAT_E2E_LAYOUT): `all` (the default), one `chat all` process; or `topology`, the deployed
// one, each role as processes of its own (command-api ×2, query-api, projector ×2, fanout ×2)
// behind Caddy serving deploy/Caddyfile (see proxy.mjs). The suite can kill the `chat` processes
// and start them again on the same database and ports, as a crash and restart would.

import { spawn, execFile } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Proxy } from './proxy.mjs';

const run = promisify(execFile);

export const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_DIR = dirname(WEB_DIR.replace(/\/$/, ''));

/** Each layout's processes, by role. */
const LAYOUTS = {
  all: ['all'],
  topology: ['command-api', 'command-api', 'query-api', 'projector', 'projector', 'fanout', 'fanout'],
};
export const LAYOUT = process.env.CHAT_E2E_LAYOUT || 'all';
if (!LAYOUTS[LAYOUT]) throw new Error(`CHAT_E2E_LAYOUT is ${LAYOUT}: one of ${Object.keys(LAYOUTS).join(', ')}`);

export const ARTIFACTS = join(WEB_DIR, 'e2e', LAYOUT === 'all' ? 'artifacts' : `artifacts-${LAYOUT}`);

const PG_ADMIN_URL = process.env.PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable';

/** The `chat` binary: CHAT_BIN, else the cargo target directory's debug build. */
export function chatBinary() {
  if (process.env.CHAT_BIN) return resolve(process.env.CHAT_BIN);
  const target = process.env.CARGO_TARGET_DIR || 'target';
  return join(isAbsolute(target) ? target : join(REPO_DIR, target), 'debug', 'chat');
}

export async function psql(sql) {
  await run('psql', [PG_ADMIN_URL, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);
}

/** A port nobody listens on right now (the kernel's pick, released at once): for Caddy, which
 * cannot say which port it got. */
async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** The port in the line every role logs once it has bound its listener
 * (`serving on http://127.0.0.1:41234 ...`), if `line` is that line. */
function servedPort(line) {
  const served = /serving (?:.* )?on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
  return served && Number(served[1]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class ChatSystem {
  /** @type {{ role: string, port: number | null, proc: import('node:child_process').ChildProcess | null, exited: Promise<object> | null }[]} */
  #processes;
  /** @type {Proxy | null} */
  #proxy = null;
  #log;
  #env;

  constructor({ database, bin, artifacts }) {
    this.database = database;
    this.bin = bin;
    this.artifacts = artifacts;
    // A process's port is the one it bound first; it is started again on the same one.
    this.#processes = LAYOUTS[LAYOUT].map((role) => ({ role, port: null, proc: null, exited: null }));
    /** Where clients reach the system: the `chat all` process, or the topology's proxy; known
     * once it serves. */
    this.baseUrl = null;
    mkdirSync(artifacts, { recursive: true });
    this.logPath = join(artifacts, 'server.log');
    this.#log = createWriteStream(this.logPath);
    const distDir = join(WEB_DIR, 'dist');
    // Only this run's settings: a CHAT_* variable from the caller's shell could change the
    // system under test (or share a bus prefix with another system).
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHAT_')));
    this.#env = {
      ...inherited,
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}?sslmode=disable`,
      CHAT_JWT_SECRET: 'e2e-secret-long-enough-for-hs256',
      CHAT_BCRYPT_COST: '4',
      CHAT_LOGIN_RATE: '0',
      CHAT_SEND_RATE: '0',
      CHAT_WEB_DIR: distDir,
      CHAT_BUS_PREFIX: database,
      CHAT_LOG_FORMAT: 'human',
      NO_COLOR: '1',
      // Seven processes share the 100 connections PostgreSQL allows with everything else.
      ...(LAYOUT === 'topology' && {
        CHAT_DB_POOL_COMMANDS: '2',
        CHAT_DB_POOL_QUERIES: '2',
        CHAT_DB_POOL_PROJECTOR: '1',
        CHAT_DB_POOL_FANOUT: '1',
      }),
    };
  }

  /** Makes a fresh database and starts the server on a free port. Names start with
   * `chat_test_` so that `make clean-test-databases` removes what a crashed run left. */
  static async start({ artifacts = ARTIFACTS } = {}) {
    const bin = chatBinary();
    if (!existsSync(bin)) throw new Error(`${bin} does not exist: run \`cargo build --bin chat\` or set CHAT_BIN`);
    if (!existsSync(join(WEB_DIR, 'dist', 'index.html'))) {
      throw new Error('web/dist is not built: run `npm run build` first');
    }
    const database = `chat_test_e2e_${process.pid}_${Date.now().toString(36)}`;
    const started = Date.now();
    await psql(`CREATE DATABASE "${database}"`);
    const system = new ChatSystem({ database, bin, artifacts });
    system.note(`database ${database} created in ${Date.now() - started} ms`);
    try {
      await system.boot();
    } catch (e) {
      await system.stop();
      throw e;
    }
    return system;
  }

  /** A line of the harness's own in the server log, to tell where a slow run spent its time. */
  note(text) {
    this.#log.write(`===== ${new Date().toISOString()} ${text}\n`);
  }

  /** Starts every process, and waits until each is ready and the system answers at its URL;
   * in the topology, the proxy is started once, in front of them, and stays. */
  async boot() {
    if (this.#processes.some((p) => p.proc)) throw new Error('the server is already running');
    this.note(`starting ${this.#processes.map((p) => `chat ${p.role} on :${p.port ?? 0}`).join(', ')}`);
    await Promise.all(this.#processes.map((p) => this.#startProcess(p)));
    if (LAYOUT === 'all') this.baseUrl = `http://127.0.0.1:${this.#processes[0].port}`;
    if (LAYOUT === 'topology' && !this.#proxy) {
      const addresses = (role) => this.#processes.filter((p) => p.role === role).map((p) => `127.0.0.1:${p.port}`);
      this.#proxy = await Proxy.start({
        caddyfile: join(REPO_DIR, 'deploy', 'Caddyfile'),
        freePort,
        upstreams: {
          CHAT_PROXY_COMMAND_API: addresses('command-api'),
          CHAT_PROXY_QUERY_API: addresses('query-api'),
          CHAT_PROXY_FANOUT: addresses('fanout'),
        },
        logPath: join(this.artifacts, 'proxy.log'),
      });
      this.baseUrl = this.#proxy.baseUrl;
      this.note(`caddy serving deploy/Caddyfile on ${this.baseUrl}`);
    }
    await this.#answering(`${this.baseUrl}/rooms/`);
    this.note(`serving on ${this.baseUrl}`);
  }

  /** Starts one process and waits until its /readyz answers 200.
   *
   * The first time, the process binds port 0 and the port it got is read from its log: a port
   * probed free beforehand can be taken by another process in between, which would then answer
   * for this one. */
  async #startProcess(p) {
    const env = { ...this.#env, CHAT_LISTEN: `127.0.0.1:${p.port ?? 0}` };
    const proc = spawn(this.bin, [p.role], { env, cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let announced;
    const bound = new Promise((r) => (announced = r));
    for (const stream of [proc.stdout, proc.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.#log.write(`[${p.role} ${p.port ? `:${p.port}` : `pid ${proc.pid}`}] ${line}\n`);
        const port = servedPort(line);
        if (port) announced(port);
      });
    }
    p.proc = proc;
    p.exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    let exited = null;
    void p.exited.then((e) => (exited = e));
    const notServing = (how) => {
      proc.kill('SIGKILL');
      p.proc = null;
      return new Error(`chat ${p.role} ${how} before serving; see ${this.logPath}`);
    };
    let timer;
    const port = await Promise.race([
      bound,
      p.exited.then((e) => `exited (${JSON.stringify(e)})`),
      new Promise((r) => (timer = setTimeout(() => r('logged no address within 30 s'), 30_000))),
    ]);
    clearTimeout(timer);
    if (typeof port !== 'number') throw notServing(port);
    p.port = port;
    await this.#answering(`http://127.0.0.1:${port}/readyz`, () => {
      if (exited) throw notServing(`exited (${JSON.stringify(exited)})`);
    });
  }

  /** Waits up to 30 s for `url` to answer 200, calling `check` (which may throw) between tries. */
  async #answering(url, check = () => {}) {
    const deadline = Date.now() + 30_000;
    let last = 'no answer';
    while (Date.now() < deadline) {
      check();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        if (res.ok) return;
        last = `${res.status} ${(await res.text()).slice(0, 200)}`;
      } catch (e) {
        // Not listening yet.
        last = e.cause?.code ?? e.message;
      }
      await sleep(100);
    }
    throw new Error(`${url} did not answer 200 within 30 s (last: ${last}); see ${this.logPath}`);
  }

  /** Kills every `chat` process without warning, as a crash would: sockets drop, nothing is
   * flushed. The topology's proxy stays, as it would in a deployment. */
  async kill() {
    await Promise.all(
      this.#processes.map(async (p) => {
        const proc = p.proc;
        if (!proc) return;
        p.proc = null;
        proc.kill('SIGKILL');
        await p.exited;
      }),
    );
    this.note('killed');
  }

  /** Stops the system (politely first), then has its database and queues removed. */
  async stop() {
    await Promise.all(
      this.#processes.map(async (p) => {
        const proc = p.proc;
        if (!proc) return;
        p.proc = null;
        proc.kill('SIGINT');
        let timer;
        const patience = new Promise((r) => (timer = setTimeout(() => r(false), 5_000)));
        const stopped = await Promise.race([p.exited.then(() => true), patience]);
        clearTimeout(timer);
        if (!stopped) {
          proc.kill('SIGKILL');
          await p.exited;
        }
      }),
    );
    await this.#proxy?.stop();
    this.#proxy = null;
    this.note('stopped; removing the database and queues in the background (cleanup.log)');
    await new Promise((r) => this.#log.end(r));
    // DROP DATABASE waits for a checkpoint, which takes tens of seconds on a busy server: the
    // suite does not wait for it. Whatever a crash leaves, `make clean-test-databases` drops.
    const log = openSync(join(this.artifacts, 'cleanup.log'), 'a');
    spawn(process.execPath, [fileURLToPath(new URL('./cleanup.mjs', import.meta.url)), this.database], {
      detached: true,
      stdio: ['ignore', log, log],
    }).unref();
    closeSync(log);
  }

  /** Kills every process if the test runner itself is going away. */
  killOnExit() {
    process.once('exit', () => {
      for (const p of this.#processes) p.proc?.kill('SIGKILL');
      this.#proxy?.killNow();
    });
  }
}
