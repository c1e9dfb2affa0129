// Checks the AsyncAPI document: it must parse and validate as AsyncAPI 3.0 with no error and no
// warning. Given a file of frames (one JSON object a line, as the WebSocket stories record them
// when CHAT_WS_FRAMES names a file), every frame the server sent must be one of the messages its
// dialect's `send` operation lists, valid against that message's schema, and every close code
// one the document lists.
//
// Usage: node check.mjs <asyncapi.yaml> [frames.jsonl]

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Parser, fromFile } from '@asyncapi/parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const [documentPath, framesPath] = process.argv.slice(2);
if (!documentPath) {
  console.error('usage: node check.mjs <asyncapi.yaml> [frames.jsonl]');
  process.exit(2);
}

const { document, diagnostics } = await fromFile(new Parser(), documentPath).parse();
// Severity 0 is an error, 1 a warning; hints and information pass.
const problems = diagnostics.filter((d) => d.severity <= 1);
for (const d of problems) console.error(`${documentPath}: ${d.path.join('.')}: ${d.message}`);
if (!document || problems.length > 0) {
  console.error(`${documentPath}: not a valid AsyncAPI document (${problems.length} problems)`);
  process.exit(1);
}
console.log(`${documentPath}: valid AsyncAPI ${document.version()}, ${document.allMessages().length} messages`);

if (framesPath) await checkFrames(framesPath);

/** The server's messages of a dialect, by the `type` their payload fixes, each compiled. */
function serverMessages(operationId, ajv) {
  const operation = document.operations().get(operationId);
  if (!operation) throw new Error(`no operation ${operationId}`);
  const byType = new Map();
  for (const message of operation.messages().all()) {
    const schema = message.payload().json();
    const type = schema.properties?.type?.const;
    if (typeof type !== 'string') throw new Error(`${message.id()} does not fix its type`);
    byType.set(type, { name: message.id(), validate: ajv.compile(schema) });
  }
  return byType;
}

async function checkFrames(path) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const dialects = { v1: serverMessages('sendV1Frames', ajv), v2: serverMessages('sendV2Frames', ajv) };
  const closeCodes = new Set(document.info().extensions().get('x-close-codes')?.value() ?? []);
  const counts = new Map();
  const failures = [];
  let lines = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    lines += 1;
    const record = JSON.parse(line);
    const where = `${path}:${lines}`;
    if ('close' in record) {
      if (!closeCodes.has(record.close)) failures.push(`${where}: close code ${record.close} is not in the document`);
      continue;
    }
    const messages = dialects[record.dialect];
    if (!messages) {
      failures.push(`${where}: unknown dialect ${record.dialect}`);
      continue;
    }
    const message = messages.get(record.frame?.type);
    if (!message) {
      failures.push(`${where}: a ${record.dialect} socket received a frame of type ${JSON.stringify(record.frame?.type)}, which the document does not list for it`);
      continue;
    }
    if (!message.validate(record.frame)) {
      failures.push(`${where}: ${message.name} does not match its schema: ${ajv.errorsText(message.validate.errors)}\n  ${line.slice(0, 300)}`);
      continue;
    }
    const key = `${record.dialect} ${message.name}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const failure of failures) console.error(failure);
  const checked = [...counts.entries()].map(([key, n]) => `${key}: ${n}`).join(', ');
  console.log(`${path}: ${lines} frames recorded; valid: ${checked || 'none'}`);
  if (lines === 0) {
    console.error(`${path}: no frames were recorded: did the WebSocket stories run with CHAT_WS_FRAMES?`);
    process.exit(1);
  }
  if (failures.length > 0) {
    console.error(`${failures.length} frames do not match openapi/asyncapi.yaml`);
    process.exit(1);
  }
}
