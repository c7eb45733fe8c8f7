/**
 * How a run's waits read in `braid show` and `braid run --wait`: what each waits for, until when,
 * what a person is asked (with the command that answers), and the settled ones in a line each.
 */
import type { WaitJson } from '../../server/schemas.js';
import type { Colors } from './colors.js';
import { formatDuration, formatTime } from './format.js';
import { shellWord } from './shellWord.js';

/** `input "approve"`, `sleep`, `event "order.paid" with key "A-1"`. */
export function describeWait(wait: WaitJson): string {
  if (wait.kind === 'sleep') return 'sleep';
  const what = `${wait.kind} ${JSON.stringify(wait.name ?? '')}`;
  if (wait.kind !== 'event') return what;
  if (wait.eventKey !== null) return `${what} with key ${JSON.stringify(wait.eventKey)}`;
  if (wait.match !== null) return `${what} matching ${JSON.stringify(wait.match)}`;
  return what;
}

/** `until 2026-01-31 12:00:00 (in 59m 58s)`; a wait with no deadline has no time limit. */
export function untilText(dueAt: number | null, now: number): string {
  if (dueAt === null) return 'no time limit';
  const left = dueAt - now;
  return `until ${formatTime(dueAt)} (${left > 0 ? `in ${formatDuration(left)}` : 'due now'})`;
}

/** One line for a waiting step in the live view: `input "approve" until ...`, the earliest deadline. */
export function waitingSummary(pending: readonly WaitJson[], now: number): string {
  if (!pending.length) return 'waiting';
  const dueAts = pending.map((w) => w.dueAt).filter((at): at is number => at !== null);
  const earliest = dueAts.length ? Math.min(...dueAts) : null;
  const what = pending.length === 1 ? describeWait(pending[0]!) : `first of ${pending.map(describeWait).join(', ')}`;
  if (pending.every((w) => w.kind === 'sleep')) return `sleeping ${untilText(earliest, now)}`;
  // A sleep raced against something else is that thing's deadline.
  return `${what}, ${untilText(earliest, now)}`;
}

/** The command that answers an input wait. */
export function answerCommand(runId: string, wait: WaitJson): string {
  return `braid input ${shellWord(runId)} ${shellWord(wait.name ?? '')} --data '<json>'`;
}

/** The `waiting for` and `settled waits` sections of `braid show` (none when the run never waited). */
export function renderWaits(runId: string, waits: readonly WaitJson[], c: Colors, now: number): string[] {
  const pending = waits.filter((w) => w.status === 'pending');
  const settled = waits.filter((w) => w.status !== 'pending');
  const lines: string[] = [];
  if (pending.length) {
    lines.push('', c.bold('waiting for:'));
    for (const wait of pending) {
      lines.push(`  ${waitLabel(wait)}: ${describeWait(wait)}, ${untilText(wait.dueAt, now)}`);
      if (wait.kind !== 'input') continue;
      if (wait.request?.payload !== null && wait.request?.payload !== undefined) {
        lines.push(`    request: ${JSON.stringify(wait.request.payload)}`);
      }
      if (wait.request?.schema) lines.push(`    value:   ${schemaSummary(wait.request.schema)}`);
      lines.push(c.dim(`    answer:  ${answerCommand(runId, wait)}`));
    }
  }
  if (settled.length) {
    lines.push('', c.bold('settled waits:'));
    for (const wait of settled) {
      const [symbol, outcome] = OUTCOMES[wait.status as Exclude<WaitJson['status'], 'pending'>];
      lines.push(
        `  ${c.dim(symbol)} ${waitLabel(wait)}: ${describeWait(wait)} ${outcome} ${formatTime(wait.resolvedAt)}`,
      );
    }
  }
  return lines;
}

const OUTCOMES: Record<Exclude<WaitJson['status'], 'pending'>, [string, string]> = {
  resolved: ['✔', 'resolved'],
  timed_out: ['⌛', 'timed out'],
  cancelled: ['⊘', 'cancelled'],
};

/** `ask`, or `ask [first#0/approve]` for one of the waits a `waitForFirst` races. */
function waitLabel(wait: WaitJson): string {
  return wait.group === wait.key ? wait.step : `${wait.step} [${wait.key}]`;
}

/**
 * A JSON Schema in a line, the way TypeScript writes types: `{ approved: boolean, note?: string }`,
 * `"low" | "high"`, `string[]`. Anything it does not know reads as its JSON.
 */
export function schemaSummary(schema: Record<string, unknown>, depth = 0): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if ('const' in schema) return JSON.stringify(schema.const);
  for (const union of ['anyOf', 'oneOf'] as const) {
    const options = schema[union];
    if (Array.isArray(options) && options.every(isObject)) {
      return options.map((o) => schemaSummary(o, depth + 1)).join(' | ');
    }
  }
  const type = schema.type;
  if (Array.isArray(type) && type.every((t) => typeof t === 'string')) return type.join(' | ');
  if (type === 'array') {
    const items = isObject(schema.items) ? schemaSummary(schema.items, depth + 1) : 'unknown';
    return /[ |]/.test(items) ? `Array<${items}>` : `${items}[]`;
  }
  if (type === 'object' || isObject(schema.properties)) {
    if (!isObject(schema.properties)) return 'object';
    if (depth >= 2) return '{…}';
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    const fields = Object.entries(schema.properties).map(([name, field]) => {
      const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
      const shown = isObject(field) ? schemaSummary(field, depth + 1) : 'unknown';
      return `${key}${required.has(name) ? '' : '?'}: ${shown}`;
    });
    return fields.length ? `{ ${fields.join(', ')} }` : '{}';
  }
  if (typeof type === 'string') return type;
  const { $schema: _ignored, ...rest } = schema;
  return JSON.stringify(rest);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
