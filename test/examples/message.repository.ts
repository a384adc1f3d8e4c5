import { Injectable } from '@nestjs/common';

export interface StoredMessage {
  type: string;
  channel: string | undefined;
  sender: string | null;
  payload: unknown;
}

/** Stands in for the app's own persistence (a database repository) in the interceptor example. */
@Injectable()
export class MessageRepository {
  readonly saved: StoredMessage[] = [];

  save(message: StoredMessage): void {
    this.saved.push(message);
  }
}
