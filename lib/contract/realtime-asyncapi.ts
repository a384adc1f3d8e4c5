import { Inject, Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ChannelCatalog } from '../channels/channel-catalog.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import type { ResolvedRealtimeOptions } from '../realtime.options.js';
import { DispatchTable } from '../routing/dispatch-table.js';
import { asyncApiDocument } from './asyncapi-document.js';
import { payloadSchemas } from './payload-schemas.js';

/**
 * The app's realtime API as an AsyncAPI 3.0 document, built from the `@Channel` and `@OnMessage` metadata and the
 * payloads' schemas (class-validator DTOs through class-validator-jsonschema, Standard Schemas through their own
 * JSON Schema). With the `asyncapi` option it is also served as JSON on the app's HTTP server.
 *
 * @example
 * ```ts
 * const document = await app.get(RealtimeAsyncApi).document();
 * writeFileSync('asyncapi.json', JSON.stringify(document, null, 2));
 * ```
 */
@Injectable()
export class RealtimeAsyncApi implements OnModuleInit {
  readonly #logger = new Logger('RealtimeModule');
  #document: Promise<object> | undefined;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
    private readonly catalog: ChannelCatalog,
    private readonly table: DispatchTable,
    @Optional() private readonly httpHost?: HttpAdapterHost,
  ) {}

  /** The document, built once on first use (after boot, once every handler is known). */
  document(): Promise<object> {
    this.#document ??= this.#build();
    return this.#document;
  }

  /** Serves the document at the `asyncapi` option's path on the app's HTTP server. */
  onModuleInit(): void {
    const served = this.options.asyncapi;
    if (served === undefined) {
      return;
    }
    const adapter = this.httpHost?.httpAdapter;
    if (adapter === undefined) {
      this.#logger.warn(`The AsyncAPI document is not served at ${served.path}: the app has no HTTP server`);
      return;
    }
    // Registered with the app's routes (before its not-found handler), on Express and Fastify alike.
    adapter.get(served.path, (_request: unknown, response: unknown) => {
      this.document().then(
        (document) => void adapter.reply(response, document, 200),
        (error: unknown) => {
          this.#logger.error(`Building the AsyncAPI document failed`, (error as Error)?.stack);
          void adapter.reply(response, { message: 'The AsyncAPI document could not be built' }, 500);
        },
      );
    });
    this.#logger.log(`AsyncAPI document at ${served.path}`);
  }

  async #build(): Promise<object> {
    const routes = this.table.routes();
    const { byRoute, schemas } = await payloadSchemas(routes);
    const info = this.options.asyncapi;
    return asyncApiDocument({
      title: info?.title ?? 'Realtime API',
      version: info?.version ?? '1.0.0',
      description: info?.description,
      path: this.options.path,
      authenticated: this.options.authenticate !== undefined,
      channels: this.catalog.definitions(),
      routes,
      payloadSchemas: byRoute,
      schemas,
    });
  }
}
