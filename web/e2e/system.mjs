// The real system under test: a fresh PostgreSQL database and the `chat all` binary serving the
// API, the WebSocket fan-out and the built client on one origin. The suite can kill the process
// and start it again on the same database and port, as a crash and restart would.

import { spawn, execFile } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_DIR = dirname(WEB_DIR.replace(/\/$/, ''));
export const ARTIFACTS = join(WEB_DIR, 'e2e', 'artifacts');

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

/** A port nobody listens on right now (the kernel's pick, released at once). */
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class ChatSystem {
  /** @type {import('node:child_process').ChildProcess | null} */
  #proc = null;
  #exited = null;
  #log;
  #env;

  constructor({ database, port, bin }) {
    this.database = database;
    this.port = port;
    this.bin = bin;
    this.baseUrl = `http://127.0.0.1:${port}`;
    mkdirSync(ARTIFACTS, { recursive: true });
    this.logPath = join(ARTIFACTS, 'server.log');
    this.#log = createWriteStream(this.logPath);
    const distDir = join(WEB_DIR, 'dist');
    // Only this run's settings: a CHAT_* variable from the caller's shell could change the
    // system under test (or share a bus prefix with another system).
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHAT_')));
    this.#env = {
      ...inherited,
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}?sslmode=disable`,
      CHAT_LISTEN: `127.0.0.1:${port}`,
      CHAT_JWT_SECRET: 'e2e-secret-long-enough-for-hs256',
      CHAT_BCRYPT_COST: '4',
      CHAT_LOGIN_RATE: '0',
      CHAT_SEND_RATE: '0',
      CHAT_WEB_DIR: distDir,
      CHAT_BUS_PREFIX: database,
      CHAT_LOG_FORMAT: 'human',
      NO_COLOR: '1',
    };
  }

  /** Makes a fresh database and starts the server on a free port. Names start with
   * `chat_test_` so that `make clean-test-databases` removes what a crashed run left. */
  static async start() {
    const bin = chatBinary();
    if (!existsSync(bin)) throw new Error(`${bin} does not exist: run \`cargo build --bin chat\` or set CHAT_BIN`);
    if (!existsSync(join(WEB_DIR, 'dist', 'index.html'))) {
      throw new Error('web/dist is not built: run `npm run build` first');
    }
    const database = `chat_test_e2e_${process.pid}_${Date.now().toString(36)}`;
    const started = Date.now();
    await psql(`CREATE DATABASE "${database}"`);
    const system = new ChatSystem({ database, port: await freePort(), bin });
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

  /** Starts the process and waits until it answers on its port. */
  async boot() {
    if (this.#proc) throw new Error('the server is already running');
    this.note(`starting chat all on ${this.baseUrl}`);
    const proc = spawn(this.bin, ['all'], { env: this.#env, cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.pipe(this.#log, { end: false });
    proc.stderr.pipe(this.#log, { end: false });
    this.#proc = proc;
    this.#exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    const deadline = Date.now() + 30_000;
    let exited = null;
    void this.#exited.then((e) => (exited = e));
    while (Date.now() < deadline) {
      if (exited) {
        this.#proc = null;
        throw new Error(`chat all exited (${JSON.stringify(exited)}) before serving; see ${this.logPath}`);
      }
      try {
        const res = await fetch(`${this.baseUrl}/rooms/`);
        if (res.ok) {
          this.note('serving');
          return;
        }
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    throw new Error(`chat all did not answer on ${this.baseUrl} within 30 s; see ${this.logPath}`);
  }

  /** Kills the process without warning, as a crash would: sockets drop, nothing is flushed. */
  async kill() {
    const proc = this.#proc;
    if (!proc) return;
    this.#proc = null;
    proc.kill('SIGKILL');
    await this.#exited;
    this.note('killed');
  }

  /** Stops the server (politely first), then has its database and queues removed. */
  async stop() {
    const proc = this.#proc;
    if (proc) {
      this.#proc = null;
      proc.kill('SIGINT');
      let timer;
      const patience = new Promise((r) => (timer = setTimeout(() => r(false), 5_000)));
      const stopped = await Promise.race([this.#exited.then(() => true), patience]);
      clearTimeout(timer);
      if (!stopped) {
        proc.kill('SIGKILL');
        await this.#exited;
      }
    }
    this.note('stopped; removing the database and queues in the background (cleanup.log)');
    await new Promise((r) => this.#log.end(r));
    // DROP DATABASE waits for a checkpoint, which takes tens of seconds on a busy server: the
    // suite does not wait for it. Whatever a crash leaves, `make clean-test-databases` drops.
    const log = openSync(join(ARTIFACTS, 'cleanup.log'), 'a');
    spawn(process.execPath, [fileURLToPath(new URL('./cleanup.mjs', import.meta.url)), this.database], {
      detached: true,
      stdio: ['ignore', log, log],
    }).unref();
    closeSync(log);
  }

  /** Kills the process if the test runner itself is going away. */
  killOnExit() {
    process.once('exit', () => this.#proc?.kill('SIGKILL'));
  }
}
