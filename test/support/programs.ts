import { spawnSync } from 'node:child_process';
import { describe } from '@jest/globals';

/** A program some tests need, and how to install it on Debian. */
const PROGRAMS = {
  'redis-server': { probe: ['redis-server', '--version'], install: 'apt-get install redis-server' },
  'redis-cli': { probe: ['redis-cli', '--version'], install: 'apt-get install redis-tools' },
  'nats-server': { probe: ['nats-server', '--version'], install: 'apt-get install nats-server' },
  nginx: { probe: ['nginx', '-v'], install: 'apt-get install nginx-light' },
  chromium: { probe: undefined, install: 'apt-get install chromium, or set CHROMIUM_PATH' },
} as const;

export type Program = keyof typeof PROGRAMS;

/**
 * `.ci/run` sets it: a missing program then fails the tests that need it (with the install command) instead of
 * skipping them, so CI never skips.
 */
const REQUIRED = process.env.REALTIME_TESTS_REQUIRE_ALL === '1';

const found = new Map<Program, boolean>();

/** Whether `program` can run here; Redis counts as there when `REDIS_URL` names one. */
export function available(program: Program): boolean {
  let answer = found.get(program);
  if (answer === undefined) {
    if (program === 'redis-server' && process.env.REDIS_URL) {
      answer = true;
    } else if (program === 'chromium') {
      answer = chromiumPath() !== undefined;
    } else {
      answer = spawnSync(PROGRAMS[program].probe[0], PROGRAMS[program].probe.slice(1)).error === undefined;
    }
    found.set(program, answer);
  }
  return answer;
}

/** Chromium: `CHROMIUM_PATH`, or the first of its usual names on `PATH`. */
export function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) {
    return process.env.CHROMIUM_PATH;
  }
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const which = spawnSync('which', [name], { encoding: 'utf8' });
    if (which.status === 0 && which.stdout.trim() !== '') {
      return which.stdout.trim();
    }
  }
  return undefined;
}

/**
 * `describe` when every program is here; otherwise `describe.skip`, with the missing programs and their install
 * commands in the title, so the run reports them skipped and says what to install. Under CI
 * (`REALTIME_TESTS_REQUIRE_ALL=1`) always `describe`: the tests fail, saying what is missing.
 */
export function describeNeeding(...programs: Program[]): typeof describe {
  const missing = programs.filter((program) => !available(program));
  if (missing.length === 0 || REQUIRED) {
    return describe;
  }
  const why = missing.map((program) => `${program} (${PROGRAMS[program].install})`).join(', ');
  const skipped = (name: string): string => {
    // Jest lists no titles of a file whose tests are all skipped: say it where the run's output shows it.
    process.stderr.write(`Skipped "${name}": needs ${why}\n`);
    return `${name} [skipped: needs ${why}]`;
  };
  const skip = ((name: string, fn: () => void) => describe.skip(skipped(name), fn)) as typeof describe;
  const eachSkipped = describe.skip.each as (...table: unknown[]) => (name: string, fn: unknown) => void;
  return Object.assign(skip, {
    each:
      (...table: unknown[]) =>
      (name: string, fn: unknown) =>
        eachSkipped(...table)(skipped(name), fn),
    skip: describe.skip,
    only: describe.only,
  });
}
