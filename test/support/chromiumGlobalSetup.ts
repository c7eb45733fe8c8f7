import type { TestProject } from 'vitest/node';
import { currentHost, ensureChromium } from './chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Chromium binary the browser tests drive. */
    chromiumPath: string;
  }
}

/**
 * vitest globalSetup of the e2e project: vitest calls it only when browser tests are about to run,
 * before any of them starts, so a machine without Chromium fails at once (or gets it installed).
 */
export default function setup(project: TestProject): void {
  project.provide('chromiumPath', ensureChromium(currentHost()));
}
