import { describe, expect, it } from 'vitest';
import { InvalidStepNameError, InvalidWorkflowError } from '../../src/model/errors.js';
import { defineWorkflow, workflow } from '../../src/model/workflow.js';

const run = () => 1;

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('step names are refused at definition when results cannot be keyed by them', () => {
  it('an empty name, with .step() and with defineWorkflow()', () => {
    for (const define of [() => workflow('w').step('', run), () => defineWorkflow('w', {}, [{ name: '', run }])]) {
      const error = thrownBy(define);
      expect(error).toBeInstanceOf(InvalidStepNameError);
      expect(error).toBeInstanceOf(InvalidWorkflowError);
      expect((error as InvalidStepNameError).code).toBe('invalid_step_name');
      expect((error as Error).message).toBe('Workflow "w": a step needs a name: a non-empty string (got "").');
    }
  });

  it('a name that is not a string', () => {
    const error = thrownBy(() => defineWorkflow('w', {}, [{ name: 7 as unknown as string, run }]));
    expect(error).toBeInstanceOf(InvalidStepNameError);
    expect((error as Error).message).toContain('(got 7)');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'])(
    'the Object.prototype name "%s"',
    (name) => {
      const viaStep = thrownBy(() =>
        workflow('w')
          .step('first', run)
          .step(name, { parents: ['first'] }, run),
      );
      const viaData = thrownBy(() => defineWorkflow('w', {}, [{ name, run }]));
      for (const error of [viaStep, viaData]) {
        expect(error).toBeInstanceOf(InvalidStepNameError);
        expect((error as InvalidStepNameError).step).toBe(name);
        expect((error as Error).message).toMatch(new RegExp(`^Workflow "w", step "${name}": this name is reserved`));
      }
    },
  );

  it('names that only look like them are fine', () => {
    const wf = workflow('w').step('proto', run).step('__proto', run).step('Constructor', run).step('to string', run);
    expect(wf.steps.map((s) => s.name)).toEqual(['proto', '__proto', 'Constructor', 'to string']);
  });
});
