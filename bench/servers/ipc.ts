/** What a benchmarked server reports about itself when the load generator asks. */
export interface ServerUsage {
  readonly cpu: NodeJS.CpuUsage;
  readonly memory: NodeJS.MemoryUsage;
}

export type ServerReply = { readonly ready: number } | { readonly usage: ServerUsage };

/** Shared by every benchmarked server: says it is ready on `port`, and answers usage questions over IPC. */
export function serveIpc(port: number): void {
  process.send?.({ ready: port } satisfies ServerReply);
  process.on('message', (message: { cmd?: string; gc?: boolean }) => {
    if (message?.cmd === 'usage') {
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
