/**
 * The browser tests drive Debian's Chromium through playwright-core. `npm test` must pass on a fresh
 * Debian machine by itself, so the e2e project's global setup (chromiumGlobalSetup.ts) finds the
 * binary, installs it when this process can install Debian packages (root, apt-get), and otherwise
 * stops the run at once with the command to run. Never a silent skip.
 */

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** Where Debian's `chromium` package puts the browser. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** Names another Chromium binary to drive instead (any distribution, a custom build). */
export const CHROMIUM_ENV = 'BRAID_CHROMIUM';

export interface ChromiumHost {
  /** The value of BRAID_CHROMIUM, if set. */
  override: string | undefined;
  isExecutable(file: string): boolean;
  isRoot: boolean;
  hasAptGet: boolean;
  /** Installs Debian's `chromium` package; throws if apt-get fails. */
  installDebianChromium(): void;
}

/** Returns the Chromium binary to drive, installing Debian's when it is missing and this process can. */
export function ensureChromium(host: ChromiumHost): string {
  if (host.override) {
    if (host.isExecutable(host.override)) return host.override;
    throw new Error(
      `${CHROMIUM_ENV} names ${host.override}, which is not an executable file. Point it at a Chromium ` +
        `binary, or unset it to use Debian's (${DEBIAN_CHROMIUM}).`,
    );
  }
  if (host.isExecutable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  if (!host.isRoot || !host.hasAptGet) {
    const how = host.hasAptGet
      ? 'Install it with `sudo apt-get update && sudo apt-get install -y chromium`'
      : `Install Chromium with your system's package manager and set ${CHROMIUM_ENV} to its binary`;
    throw new Error(
      `The browser tests drive Chromium at ${DEBIAN_CHROMIUM}, which is not installed, and this process cannot ` +
        `install it (that needs root and apt-get). ${how}, then run \`npm test\` again.`,
    );
  }
  host.installDebianChromium();
  if (host.isExecutable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  throw new Error(
    `\`apt-get install -y chromium\` succeeded but ${DEBIAN_CHROMIUM} is still missing. Install Chromium by ` +
      `hand and set ${CHROMIUM_ENV} to its binary.`,
  );
}

/** This machine, this process. */
export function currentHost(): ChromiumHost {
  return {
    override: process.env[CHROMIUM_ENV] || undefined,
    isExecutable,
    isRoot: process.getuid?.() === 0,
    hasAptGet: spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).error === undefined,
    installDebianChromium,
  };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function installDebianChromium(): void {
  console.log(`The browser tests need Chromium: installing Debian's (apt-get install -y chromium).`);
  // A fresh image has empty package lists, so update first.
  for (const args of [
    ['update', '-q'],
    ['install', '-y', '-q', 'chromium'],
  ]) {
    const result = spawnSync('apt-get', args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) {
      throw new Error(
        `\`apt-get ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`}). ` +
          'Install Chromium with `apt-get install -y chromium`, then run `npm test` again.',
      );
    }
  }
}
