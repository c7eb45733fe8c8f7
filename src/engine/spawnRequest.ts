import type { SpawnableWorkflow, SpawnOptions } from '../model/context.js';
import { SpawnError } from '../model/errors.js';
import { fromJson, toJsonWithCanonical } from '../model/json.js';
import { validateInputSync } from '../model/schema.js';
import { hashText } from './ids.js';
import type { WorkflowPlan } from './runState.js';

/** One child of a spawn, checked and in its stored form, before anything is created. */
export interface PreparedSpawn {
  plan: WorkflowPlan;
  input: unknown;
  inputJson: string;
  explicitKey: string | undefined;
  /** The child's identity when it has no key: its workflow and canonical input, hashed. */
  contentHash: string;
}

/**
 * Checks one child of `ctx.spawnWorkflow(s)`: a registered workflow, an input its schema accepts
 * synchronously and that serialises, a key that is a non-empty string. Throws a SpawnError that
 * names the child otherwise, so a spawn checks every child before it creates any.
 */
export function prepareSpawn(
  planOf: (workflow: SpawnableWorkflow | string) => WorkflowPlan,
  workflow: SpawnableWorkflow | string,
  input: unknown,
  options: SpawnOptions | undefined,
): PreparedSpawn {
  const name = typeof workflow === 'string' ? workflow : workflow?.name;
  let plan: WorkflowPlan;
  try {
    plan = planOf(workflow);
  } catch (error) {
    throw new SpawnError(String(name), (error as Error).message, { cause: error });
  }
  const schema = plan.workflow.options.input;
  const checked = schema === undefined ? undefined : validateInputSync(schema, input);
  if (checked && 'async' in checked) {
    throw new SpawnError(
      plan.workflow.name,
      'its input schema validates asynchronously; spawn needs a synchronous schema.',
    );
  }
  if (checked && 'issues' in checked) {
    throw new SpawnError(
      plan.workflow.name,
      `the input does not match its schema: ${checked.issues.map((i) => i.message).join('; ')}. Nothing was spawned.`,
    );
  }
  const explicitKey = options?.key ?? options?.idempotencyKey;
  // The stored text and, for a child without a key, the canonical text its identity hashes: one
  // walk and one stringify when the input's keys are already sorted (see toJsonWithCanonical).
  let stored: { json: string; canonical: string | undefined };
  try {
    stored = toJsonWithCanonical(
      checked ? checked.value : input,
      childInput,
      plan.workflow.name,
      explicitKey === undefined,
    );
  } catch (error) {
    throw new SpawnError(plan.workflow.name, (error as Error).message, { cause: error });
  }
  if (explicitKey !== undefined && (typeof explicitKey !== 'string' || explicitKey.length === 0)) {
    throw new SpawnError(
      plan.workflow.name,
      `its key must be a non-empty string, got ${typeof explicitKey === 'string' ? 'an empty string' : typeof explicitKey}. ` +
        'Nothing was spawned.',
    );
  }
  return {
    plan,
    input: fromJson(stored.json),
    inputJson: stored.json,
    explicitKey,
    contentHash: explicitKey === undefined ? hashText(`${plan.workflow.name}\0${stored.canonical}`) : '',
  };
}

/** What a child's input is called in the error that refuses it (built only then). */
function childInput(workflow: string): string {
  return `The input of child workflow "${workflow}"`;
}
