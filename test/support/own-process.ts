import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Starts a server process and resolves once it printed `ready` on `stream` (its output is drained from then on, so
 * the pipe never fills); rejects with what it printed when it exits first.
 */
async function spawnUntilReady(
  command: string,
  args: readonly string[],
  ready: string,
  stream: 'stdout' | 'stderr',
): Promise<ChildProcess> {
  const child = spawn(command, args, {
    stdio: ['ignore', stream === 'stdout' ? 'pipe' : 'ignore', stream === 'stderr' ? 'pipe' : 'ignore'],
  });
  const output = child[stream]!;
  await new Promise<void>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (text.includes(ready)) {
        output.off('data', onData);
        child.off('exit', onExit);
        output.resume();
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`${command} exited (${code}): ${text}`));
    output.on('data', onData);
    child.once('exit', onExit);
  });
  return child;
}

/** Kills a process (SIGKILL) and resolves once it exited; nothing for one that has. */
async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** One server process a test owns, which it can stop (SIGKILL) and start again with the same command. */
export class OwnProcess {
  #child: ChildProcess | undefined;

  constructor(
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly ready: string,
    private readonly stream: 'stdout' | 'stderr',
  ) {}

  /** Starts it, unless it runs already; resolves once it said it is ready. */
  async start(): Promise<void> {
    if (this.#child !== undefined) {
      return;
    }
    const child = await spawnUntilReady(this.command, this.args, this.ready, this.stream);
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) {
        this.#child = undefined;
      }
    });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    await killAndWait(child);
  }
}
