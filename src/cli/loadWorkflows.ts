/**
 * Imports the user's workflow files and collects the workflows they export: each exported
 * `Workflow`, and each one inside an exported array (`export const workflows = [order, digest]`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Workflow } from '../index.js';
import {
  NoWorkflowFileError,
  NoWorkflowsExportedError,
  TypeScriptLoaderMissingError,
  WorkflowFileImportError,
  WorkflowFileNotFoundError,
} from './errors.js';
import { DEFAULT_WORKFLOW_FILE } from './options.js';

export interface LoadedWorkflows {
  files: string[];
  workflows: Array<Workflow<any, any, any>>;
}

export async function loadWorkflows(files: readonly string[]): Promise<LoadedWorkflows> {
  const chosen = files.length ? [...files] : [defaultFile()];
  const workflows = new Set<Workflow<any, any, any>>();
  for (const file of chosen) {
    const found = workflowsIn(await importFile(file));
    if (!found.length) throw new NoWorkflowsExportedError(file);
    for (const wf of found) workflows.add(wf);
  }
  return { files: chosen, workflows: [...workflows] };
}

function defaultFile(): string {
  if (!existsSync(DEFAULT_WORKFLOW_FILE)) throw new NoWorkflowFileError(DEFAULT_WORKFLOW_FILE);
  return DEFAULT_WORKFLOW_FILE;
}

const TYPESCRIPT_EXTENSION = /\.[mc]?tsx?$/;

async function importFile(file: string): Promise<Record<string, unknown>> {
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) throw new WorkflowFileNotFoundError(file);
  const url = pathToFileURL(absolute).href;
  try {
    return await import(url);
  } catch (error) {
    if (!isUnknownExtension(error) || !TYPESCRIPT_EXTENSION.test(file)) throw new WorkflowFileImportError(file, error);
  }
  // A compiled install runs without tsx. If the user's project has it, load TypeScript through it.
  // Node remembers the failed import of `url`, so the retry asks for the file under another URL.
  if (!(await registerTsx())) throw new TypeScriptLoaderMissingError(file, undefined);
  try {
    return await import(`${url}?braid-loader=tsx`);
  } catch (error) {
    throw new WorkflowFileImportError(file, error);
  }
}

function isUnknownExtension(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ERR_UNKNOWN_FILE_EXTENSION';
}

async function registerTsx(): Promise<boolean> {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}

/**
 * `instanceof` holds when the file imports Braid from the same copy as the CLI. A project with
 * two copies (a linked checkout, say) gets objects of another Workflow class: those are
 * recognised by shape, which is all the executor relies on.
 */
function isWorkflow(value: unknown): value is Workflow<any, any, any> {
  if (value instanceof Workflow) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Workflow<any, any, any>>;
  return (
    value.constructor?.name === 'Workflow' &&
    typeof v.name === 'string' &&
    Array.isArray(v.steps) &&
    typeof v.step === 'function' &&
    typeof v.validate === 'function'
  );
}

function workflowsIn(module: Record<string, unknown>): Array<Workflow<any, any, any>> {
  const found: Array<Workflow<any, any, any>> = [];
  for (const value of Object.values(module)) {
    if (isWorkflow(value)) found.push(value);
    else if (Array.isArray(value)) found.push(...value.filter(isWorkflow));
  }
  return found;
}
