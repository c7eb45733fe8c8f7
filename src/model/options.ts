import { type Duration, durationMs } from './durations.js';
import { InvalidWorkflowError } from './errors.js';
import { isPriority, MAX_PRIORITY, MIN_PRIORITY } from './priority.js';
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
}

interface WorkflowNumericOptions extends NumericOptions {
  debounce?: { key?: unknown; window?: unknown; maxWait?: unknown } | undefined;
  maxParallelNodes?: number | undefined;
  maxRuns?: number | undefined;
  on?: { event: string } | undefined;
  retention?: RetentionDurations | undefined;
}

export function checkWorkflowOptions(workflow: string, options: WorkflowNumericOptions): void {
  const check = checker(workflow, undefined);
  check.wholeAtLeast('maxParallelNodes', options.maxParallelNodes, 1);
  check.wholeAtLeast('maxRuns', options.maxRuns, 1);
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
