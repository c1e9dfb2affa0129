// Removes what one e2e run left behind, after the suite has finished (system.mjs starts it
// detached): the run's database, and the durable queues it declared under its bus prefix.
//
//   node e2e/cleanup.mjs <database>

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { psql } from './system.mjs';

const run = promisify(execFile);
const database = process.argv[2];
if (!/^chat_test_e2e_\w+$/.test(database ?? '')) throw new Error(`not an e2e database: ${database}`);

const started = Date.now();
await psql(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
console.log(`${new Date().toISOString()} dropped ${database} in ${Date.now() - started} ms`);

// Best effort: without rabbitmqctl (or the rights to use it) the queues stay, empty and unused.
try {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_queues', 'name'], { timeout: 60_000 });
  const ours = stdout.split('\n').map((l) => l.trim()).filter((q) => q.startsWith(`${database}.`));
  for (const q of ours) await run('rabbitmqctl', ['-q', 'delete_queue', q], { timeout: 60_000 });
  console.log(`${new Date().toISOString()} deleted queues ${ours.join(', ') || '(none)'}`);
} catch (e) {
  console.log(`${new Date().toISOString()} queues of ${database} left: ${e.message}`);
}
