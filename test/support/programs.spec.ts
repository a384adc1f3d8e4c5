import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

const root = new URL('../../', import.meta.url).pathname;

/** Runs the nginx fixture under Jest with `env`; resolves to the exit code and what Jest printed. */
function runFixture(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npx',
      ['jest', '--testMatch', '**/test/fixtures/needs-nginx.fixture.ts', '--verbose', '--ci'],
      { cwd: root, env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules', ...env } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** PATH without the directories that hold nginx. */
const withoutNginx = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => !/sbin/.test(dir))
  .join(':');

describe('tests that need a program the machine lacks', () => {
  it('are reported as skipped, with the command that installs it, and pass', async () => {
    const run = await runFixture({ PATH: withoutNginx, REALTIME_TESTS_REQUIRE_ALL: '' });
    expect(run.output).toContain('Skipped "a suite that needs nginx": needs nginx (apt-get install nginx-light)');
    expect(run.output).toMatch(/Tests:\s+1 skipped, 1 total/);
    expect(run.code).toBe(0);
  }, 60_000);

  it('fail instead under CI (REALTIME_TESTS_REQUIRE_ALL=1), saying what to install', async () => {
    const run = await runFixture({ PATH: withoutNginx, REALTIME_TESTS_REQUIRE_ALL: '1' });
    expect(run.output).toContain('These tests need nginx (Debian: apt-get install nginx-light)');
    expect(run.code).not.toBe(0);
  }, 60_000);

  it('run when the program is there', async () => {
    const run = await runFixture({ REALTIME_TESTS_REQUIRE_ALL: '' });
    expect(run.output).toMatch(/Tests:\s+1 passed, 1 total/);
    expect(run.code).toBe(0);
  }, 60_000);
});
