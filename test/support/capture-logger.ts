import type { LoggerService } from '@nestjs/common';

export interface LogEntry {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
  extra: unknown[];
}

/** A Nest logger that records instead of printing, so tests can assert what the server logged. */
export class CaptureLogger implements LoggerService {
  readonly entries: LogEntry[] = [];

  log(message: unknown, ...extra: unknown[]): void {
    this.#add('log', message, extra);
  }
  error(message: unknown, ...extra: unknown[]): void {
    this.#add('error', message, extra);
  }
  warn(message: unknown, ...extra: unknown[]): void {
    this.#add('warn', message, extra);
  }
  debug(message: unknown, ...extra: unknown[]): void {
    this.#add('debug', message, extra);
  }
  verbose(message: unknown, ...extra: unknown[]): void {
    this.#add('verbose', message, extra);
  }
  fatal(message: unknown, ...extra: unknown[]): void {
    this.#add('fatal', message, extra);
  }

  find(level: LogEntry['level'], text: string): LogEntry | undefined {
    return this.entries.find((entry) => entry.level === level && entry.message.includes(text));
  }

  #add(level: LogEntry['level'], message: unknown, extra: unknown[]): void {
    this.entries.push({ level, message: String(message), extra });
  }
}
