/**
 * How `npm test` gets the Chromium of the browser tests (test/support/chromium.ts), on hosts that
 * differ in what they have and may do. The host is a stand-in: nothing is installed here.
 */
import { describe, expect, it } from 'vitest';
import { type ChromiumHost, DEBIAN_CHROMIUM, ensureChromium } from '../support/chromium.js';

function host(facts: Partial<ChromiumHost> & { present?: string[]; installs?: boolean }) {
  const present = new Set(facts.present ?? []);
  const installs: string[] = [];
  const fake: ChromiumHost = {
    override: facts.override,
    isExecutable: (file) => present.has(file),
    isRoot: facts.isRoot ?? true,
    hasAptGet: facts.hasAptGet ?? true,
    installDebianChromium: () => {
      installs.push('chromium');
      if (facts.installs ?? true) present.add(DEBIAN_CHROMIUM);
    },
  };
  return { fake, installs };
}

describe('ensureChromium', () => {
  it("uses Debian's Chromium when it is there, and installs nothing", () => {
    const { fake, installs } = host({ present: [DEBIAN_CHROMIUM] });
    expect(ensureChromium(fake)).toBe(DEBIAN_CHROMIUM);
    expect(installs).toEqual([]);
  });

  it('installs it when it is missing and the process is root with apt-get', () => {
    const { fake, installs } = host({ isRoot: true, hasAptGet: true });
    expect(ensureChromium(fake)).toBe(DEBIAN_CHROMIUM);
    expect(installs).toEqual(['chromium']);
  });

  it('fails at once with the command to run when the process is not root', () => {
    const { fake, installs } = host({ isRoot: false, hasAptGet: true });
    expect(() => ensureChromium(fake)).toThrow('`sudo apt-get update && sudo apt-get install -y chromium`');
    expect(installs).toEqual([]);
  });

  it('fails at once and names BRAID_CHROMIUM on a machine without apt-get', () => {
    const { fake, installs } = host({ isRoot: true, hasAptGet: false });
    expect(() => ensureChromium(fake)).toThrow(/package manager and set BRAID_CHROMIUM/);
    expect(installs).toEqual([]);
  });

  it('fails when the install did not provide the binary', () => {
    const { fake } = host({ installs: false });
    expect(() => ensureChromium(fake)).toThrow(`${DEBIAN_CHROMIUM} is still missing`);
  });

  it('uses the binary BRAID_CHROMIUM names, and refuses one that is not there without installing', () => {
    expect(ensureChromium(host({ override: '/opt/chrome/chrome', present: ['/opt/chrome/chrome'] }).fake)).toBe(
      '/opt/chrome/chrome',
    );
    const { fake, installs } = host({ override: '/opt/nothing' });
    expect(() => ensureChromium(fake)).toThrow('BRAID_CHROMIUM names /opt/nothing');
    expect(installs).toEqual([]);
  });
});
