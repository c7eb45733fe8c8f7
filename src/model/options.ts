import { type Duration, durationMs } from './durations.js';
import { InvalidWorkflowError } from './errors.js';
import { isPriority, MAX_PRIORITY, MIN_PRIORITY } from './priority.js';
import type { RateLimitOptions } from './rateLimit.js';
import { parseRetention, type RetentionDurations } from './retention.js';

export interface BackoffOptions {
  /** Delay before the first retry. Default 1000 ms. */
  initialMs?: number;
  /** Growth per retry. Default 2. */
  factor?: number;
  /** Upper bound on one delay. Default 60 000 ms. */
  maxMs?: number;
  /** Fraction of the delay that is randomised (0 to 1). Default 0.2: the delay is +/- 20 %. */
  jitter?: number;
}

/**
 * Checks the numbers of a definition when it is written, so a typo fails at once, naming the
 * option, rather than making runs misbehave later: a `maxParallelNodes` or `maxRuns` of 0 leaves
 * every run waiting forever, a NaN backoff stops every timer, a negative retry count is a typo.
 */

interface NumericOptions {
  retries?: number | undefined;
  timeoutSeconds?: number | undefined;
  backoff?: BackoffOptions | undefined;
  priority?: number | undefined;
}

interface StepNumericOptions extends NumericOptions {
  delay?: Duration | undefined;
  rateLimit?: RateLimitOptions | undefined;
}

interface WorkflowNumericOptions extends NumericOptions {
  debounce?: { key?: unknown; window?: unknown; maxWait?: unknown } | undefined;
  maxParallelNodes?: number | undefined;
  maxRuns?: number | undefined;
  on?: { event: string } | undefined;
  retention?: RetentionDurations | undefined;
  rateLimit?: RateLimitOptions | undefined;
}

export function checkWorkflowOptions(workflow: string, options: WorkflowNumericOptions): void {
  const check = checker(workflow, undefined);
  check.wholeAtLeast('maxParallelNodes', options.maxParallelNodes, 1);
  check.wholeAtLeast('maxRuns', options.maxRuns, 1);
  checkRateLimit(check, options.rateLimit);
  checkCommon(check, options, 'no deadline');
  const on = options.on;
  if (on !== undefined && !(on && typeof on.event === 'string' && on.event.length > 0)) {
    check.refuse('on', '{ event: "<a non-empty event name>" }', JSON.stringify(on));
  }
  checkDebounce(check, options.debounce);
  try {
    parseRetention(options.retention, 'retention');
  } catch (error) {
    throw new InvalidWorkflowError(workflow, undefined, (error as Error).message);
  }
}

export function checkStepOptions(workflow: string, step: string, options: StepNumericOptions): void {
  const check = checker(workflow, step);
  checkCommon(check, options, 'no limit');
  checkRateLimit(check, options.rateLimit);
  if (options.delay !== undefined) {
    try {
      durationMs(options.delay, '`delay`');
    } catch {
      check.refuse('delay', 'a duration (milliseconds, or text such as "30s", "5m", "2h")', options.delay);
    }
  }
}

const DURATION_RULE = 'a duration (milliseconds, or text such as "30s", "5m", "2h")';

function checkDebounce(check: Checker, debounce: WorkflowNumericOptions['debounce']): void {
  if (debounce === undefined) return;
  if (debounce === null || typeof debounce !== 'object') {
    check.refuse('debounce', '{ window, maxWait?, key? }', debounce);
  }
  const windowMs = durationOrNaN(debounce.window);
  if (!(windowMs > 0)) check.refuse('debounce.window', `${DURATION_RULE} longer than 0`, debounce.window);
  if (debounce.maxWait !== undefined && !(durationOrNaN(debounce.maxWait) >= windowMs)) {
    check.refuse('debounce.maxWait', `${DURATION_RULE} at least as long as debounce.window`, debounce.maxWait);
  }
  if (debounce.key !== undefined && typeof debounce.key !== 'function') {
    check.refuse(
      'debounce.key',
      'a function of the input returning the key, e.g. (input) => input.userId',
      debounce.key,
    );
  }
}

function durationOrNaN(value: unknown): number {
  try {
    return durationMs(value as Duration, 'debounce');
  } catch {
    return Number.NaN;
  }
}

function checkCommon(check: Checker, options: NumericOptions, zeroMeans: string): void {
  check.wholeAtLeast('retries', options.retries, 0);
  check.finiteAtLeast('timeoutSeconds', options.timeoutSeconds, 0, ` (0 = ${zeroMeans})`);
  if (options.priority !== undefined && !isPriority(options.priority)) {
    check.refuse(
      'priority',
      `a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY} (higher goes first)`,
      options.priority,
    );
  }
  const backoff = options.backoff;
  if (backoff === undefined) return;
  if (backoff === null || typeof backoff !== 'object') check.refuse('backoff', 'an object', backoff);
  check.finiteAtLeast('backoff.initialMs', backoff.initialMs, 0);
  check.finiteAtLeast('backoff.maxMs', backoff.maxMs, 0);
  check.finiteAtLeast('backoff.factor', backoff.factor, 1);
  const jitter = backoff.jitter;
  if (jitter !== undefined && !(typeof jitter === 'number' && jitter >= 0 && jitter <= 1)) {
    check.refuse('backoff.jitter', 'a number from 0 to 1', jitter);
  }
}

/** A limit of 0 would hold every start forever, a period of 0 would be no limit: both are typos. */
function checkRateLimit(check: Checker, rateLimit: RateLimitOptions | undefined): void {
  if (rateLimit === undefined) return;
  if (rateLimit === null || typeof rateLimit !== 'object') {
    check.refuse('rateLimit', 'an object { limit, period, key?, onLimit?, burst?, name? }', rateLimit);
  }
  if (rateLimit.limit === undefined)
    check.refuse('rateLimit.limit', 'a whole number >= 1 (starts per period)', undefined);
  check.wholeAtLeast('rateLimit.limit', rateLimit.limit, 1);
  let periodMs = Number.NaN;
  try {
    periodMs = durationMs(rateLimit.period, '`rateLimit.period`');
  } catch {}
  if (!(periodMs > 0)) {
    check.refuse(
      'rateLimit.period',
      'a duration above 0 (milliseconds, or text such as "1s", "1m", "1h")',
      rateLimit.period,
    );
  }
  check.wholeAtLeast('rateLimit.burst', rateLimit.burst, 1);
  const onLimit = rateLimit.onLimit;
  if (onLimit !== undefined && onLimit !== 'queue' && onLimit !== 'drop') {
    check.refuse('rateLimit.onLimit', '"queue" or "drop"', onLimit);
  }
  if (rateLimit.key !== undefined && typeof rateLimit.key !== 'function') {
    check.refuse(
      'rateLimit.key',
      'a function of the input that returns the key, such as (input) => input.customerId',
      rateLimit.key,
    );
  }
  const name = rateLimit.name;
  if (name !== undefined && !(typeof name === 'string' && name.length > 0)) {
    check.refuse('rateLimit.name', 'a non-empty string', name);
  }
}

interface Checker {
  wholeAtLeast(option: string, value: unknown, min: number): void;
  finiteAtLeast(option: string, value: unknown, min: number, note?: string): void;
  refuse(option: string, rule: string, value: unknown): never;
}

function checker(workflow: string, step: string | undefined): Checker {
  const refuse = (option: string, rule: string, value: unknown): never => {
    throw new InvalidWorkflowError(workflow, step, `\`${option}\` must be ${rule}, got ${String(value)}.`);
  };
  return {
    refuse,
    wholeAtLeast(option, value, min) {
      if (value !== undefined && !(Number.isInteger(value) && (value as number) >= min)) {
        refuse(option, `a whole number >= ${min}`, value);
      }
    },
    finiteAtLeast(option, value, min, note = '') {
      if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= min)) {
        refuse(option, `a finite number >= ${min}${note}`, value);
      }
    },
  };
}
