import { type ChildProcess, spawn } from 'node:child_process';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A sample app running in its own process (`npm run sample`, or the built `node dist-sample/main.js`). */
export class SampleProcess {
  #output = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts `command` in the project's root with the environment added (`PORT=0`: any free port). */
  static spawn(command: string, args: string[], env: Record<string, string> = {}): SampleProcess {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: kill() ends npm, the shell and the node process it started, all together.
      detached: true,
    });
    return new SampleProcess(child);
  }

  /** Builds the library and the sample once, for processes started with `node dist-sample/main.js`. */
  static async build(): Promise<void> {
    const build = SampleProcess.spawn('npm', ['run', 'build:sample']);
    const code = await build.exited;
    if (code !== 0) {
      throw new Error(`npm run build:sample exited with ${code}:\n${build.output}`);
    }
  }

  get output(): string {
    return this.#output;
  }

  /** Resolves with the sample's pid and URL once it logs that it listens; rejects if it exits first. */
  async listening(): Promise<{ pid: number; url: string }> {
    const [, pid, url] = await this.waitForOutput(/\[Nest\] (\d+) .*Sample chat listening on (http:\/\/\S+)/);
    return { pid: Number(pid), url };
  }

  waitForOutput(pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = pattern.exec(this.#output);
        if (found) {
          this.child.stdout?.off('data', check);
          resolve(found);
        }
      };
      this.child.stdout?.on('data', check);
      this.child.once('exit', (code) => reject(new Error(`The sample exited with ${code}:\n${this.#output}`)));
      check();
    });
  }

  /** Kills the process and what it started (its process group), if it still runs. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      process.kill(-this.child.pid, signal);
      await this.exited;
    }
  }
}
