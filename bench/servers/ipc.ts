import { mkdirSync, writeFileSync } from 'node:fs';

/** What a benchmarked server reports about itself when the load generator asks. */
export interface ServerUsage {
  readonly cpu: NodeJS.CpuUsage;
  readonly memory: NodeJS.MemoryUsage;
}

export type ServerReply = { readonly ready: number } | { readonly usage: ServerUsage };

/** Shared by every benchmarked server: says it is ready on `port`, and answers usage questions over IPC. */
export function serveIpc(port: number): void {
  process.send?.({ ready: port } satisfies ServerReply);
  // With --cpu-prof: when each usage reading was taken (µs, the profile's clock), so a profile can be cut to the
  // window between two readings (bench/profile-window.ts).
  const profileDir = process.execArgv.find((arg) => arg.startsWith('--cpu-prof-dir='))?.split('=')[1];
  const marks: number[] = [];
  if (profileDir !== undefined) {
    process.on('exit', () => {
      mkdirSync(profileDir, { recursive: true });
      writeFileSync(`${profileDir}/marks-${process.pid}.json`, JSON.stringify(marks));
    });
  }
  process.on('message', (message: { cmd?: string; gc?: boolean }) => {
    if (message?.cmd === 'usage') {
      marks.push(Number(process.hrtime.bigint() / 1000n));
      const gc = (globalThis as { gc?: () => void }).gc;
      if (message.gc && gc) {
        gc();
        gc();
      }
      process.send?.({ usage: { cpu: process.cpuUsage(), memory: process.memoryUsage() } } satisfies ServerReply);
    }
  });
  process.on('disconnect', () => process.exit(0));
}
