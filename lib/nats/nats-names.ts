/**
 * Names on NATS: a broker topic, a channel, a scope or a user becomes one subject token (and one KV key token):
 * letters, digits, `_` and `-` stay, every other character becomes `=` and its UTF-8 bytes in hex (so `.`, `*`, `>`,
 * spaces and `=` itself never reach a subject); the empty name is `=`. The mapping is one to one.
 */
export function token(name: string): string {
  if (name === '') {
    return '='; // a token is never empty; "=" alone is no escape, so it stands for ""
  }
  return name.replace(/[^A-Za-z0-9_-]/gu, (character) =>
    [...Buffer.from(character, 'utf8')].map((byte) => `=${byte.toString(16).padStart(2, '0')}`).join(''),
  );
}

/** The name a token was made from. */
export function untoken(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=') {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The subjects and JetStream names of one `prefix`. */
export class NatsNames {
  constructor(readonly prefix: string) {}

  /** The core subject of a broker topic. */
  topic(topic: string): string {
    return `${this.prefix}.t.${token(topic)}`;
  }

  /** The JetStream subject of a channel's history. */
  history(channel: string): string {
    return `${this.prefix}.h.${token(channel)}`;
  }

  get historySubjects(): string {
    return `${this.prefix}.h.>`;
  }

  get historyStream(): string {
    return `${this.prefix}_history`;
  }

  /** KV bucket: presence members and connection counts (`m.<scope>.<user>`) and each node's scopes (`s.<node>`). */
  get presenceBucket(): string {
    return `${this.prefix}_presence`;
  }

  /** KV bucket whose entries expire after `nodeTimeoutMs`: node heartbeats (`n.<node>`). */
  get nodesBucket(): string {
    return `${this.prefix}_nodes`;
  }

  /** KV bucket: shared rate-limit buckets (`r.<key>`). */
  get rateLimitsBucket(): string {
    return `${this.prefix}_ratelimits`;
  }

  /** KV bucket: each history channel's epoch (`e.<channel>`). */
  get epochsBucket(): string {
    return `${this.prefix}_epochs`;
  }
}
