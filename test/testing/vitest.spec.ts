import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';

const root = new URL('../../', import.meta.url).pathname;
const consumer = `${root}test/vitest`;
/** The library as an app installs it: in the consumer's own node_modules (its own build; dist/ stays untouched). */
const installed = `${consumer}/node_modules/nestjs-realtime`;

/** Runs a command to its end; resolves to its exit code and output. */
function run(command: string, args: string[], cwd = root): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('the testing kit under Vitest', () => {
  it('runs an ESM test file of plain JavaScript against the built package, with fake timers', async () => {
    rmSync(installed, { recursive: true, force: true });
    mkdirSync(installed, { recursive: true });
    const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as Record<string, unknown>;
    const { name, version, type, exports, main, types } = manifest;
    writeFileSync(`${installed}/package.json`, JSON.stringify({ name, version, type, exports, main, types }));
    const build = await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', `${installed}/dist`]);
    expect(build).toMatchObject({ code: 0 });
    const vitest = await run('npx', ['vitest', 'run'], consumer);
    expect(vitest.output).toMatch(/Tests\s+4 passed/);
    expect(vitest).toMatchObject({ code: 0 });
  }, 120_000);
});
