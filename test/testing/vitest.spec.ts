import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

/** Runs a command to its end; resolves to its exit code and output. */
function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('the testing kit under Vitest', () => {
  it('runs an ESM test file of plain JavaScript against the built package, with fake timers', async () => {
    const build = await run('npm', ['run', 'build']);
    expect(build).toMatchObject({ code: 0 });
    const vitest = await run('npx', ['vitest', 'run', '--root', 'test/vitest']);
    expect(vitest.output).toMatch(/Tests\s+4 passed/);
    expect(vitest).toMatchObject({ code: 0 });
  }, 120_000);
});
