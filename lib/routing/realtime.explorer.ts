import { Inject, Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ChannelCatalog } from '../channels/channel-catalog.js';
import type { CanJoin, ChannelDefinition, JoinCheck, OnWhisper } from '../channels/channel-definition.js';
import { isNearMiss } from '../util/near-miss.js';
import { resolveChannelOptions } from '../channels/channel-options.js';
import type { ChannelMetadata } from '../decorators/channel.decorator.js';
import { compileChannelPattern } from '../channels/channel-pattern.js';
import { payloadContractOf } from '../contract/payload-contract.js';
import { DispatchTable } from './dispatch-table.js';
import { HandlerPipelineFactory } from './handler-pipeline.factory.js';
import { LifecycleHooks } from './lifecycle-hooks.js';
import { RealtimeMetadataAccessor } from './realtime-metadata.accessor.js';
import { MessageType } from '../protocol/message-types.js';
import { RESOLVED_OPTIONS } from '../realtime.constants.js';
import { RealtimeOptionsError, type ResolvedRealtimeOptions } from '../realtime.options.js';

/**
 * Scans the app's providers once, at module init: `@Channel` classes become channel definitions and routes (with
 * their pipeline proxies built here, never per message); providers with realtime lifecycle hooks are registered.
 */
@Injectable()
export class RealtimeExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: RealtimeMetadataAccessor,
    private readonly pipelines: HandlerPipelineFactory,
    private readonly catalog: ChannelCatalog,
    private readonly table: DispatchTable,
    private readonly hooks: LifecycleHooks,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedRealtimeOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      const metatype = wrapper.metatype;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias) {
        continue;
      }
      const channel = this.accessor.getChannel(metatype);
      if (channel && !wrapper.isDependencyTreeStatic()) {
        throw new RealtimeOptionsError(
          `@Channel class ${wrapper.name} must be a singleton: it (or one of its dependencies) is request or transient scoped`,
        );
      }
      if (!wrapper.isDependencyTreeStatic()) {
        continue;
      }
      this.hooks.register(instance);
      if (channel) {
        this.#registerChannelClass(instance, metatype as Type, channel);
      }
    }
    const privateRoutes = this.table.lookup(MessageType.CHAT_PRIVATE);
    if (this.options.directMessages && privateRoutes !== undefined) {
      const handler = privateRoutes.global ?? [...privateRoutes.byChannel.values()][0];
      throw new RealtimeOptionsError(
        `Invalid RealtimeModule option "directMessages": the module relays "${MessageType.CHAT_PRIVATE}" itself, ` +
          `but ${handler.name} handles it too. Remove that handler, or turn directMessages off.`,
      );
    }
    await this.pipelines.prepareValidation();
  }

  /**
   * Channels are closed unless opened: joining a pattern needs a `canJoin` method, guards (the class's or global
   * ones), or `public: true` said out loud. A class that has none would admit everyone by omission.
   */
  #requireJoinCheck(instance: object, classRef: Type, pattern: string, open: boolean): void {
    const canJoin = (instance as Partial<CanJoin>).canJoin;
    if (open || typeof canJoin === 'function' || this.pipelines.joinGuarded(instance)) {
      return;
    }
    throw new RealtimeOptionsError(
      `@Channel("${pattern}") on ${classRef.name} has no join check, so anyone could subscribe: add ` +
        'canJoin(client, params) (the CanJoin interface), @UseGuards(...) on the class, or { public: true } to ' +
        'open it to everyone',
    );
  }

  #registerChannelClass(instance: object, classRef: Type, { pattern, options }: ChannelMetadata): void {
    let definition: ChannelDefinition | undefined;
    if (pattern !== undefined) {
      const resolved = resolveChannelOptions(pattern, options);
      this.#requireJoinCheck(instance, classRef, pattern, resolved.public);
      const join = this.pipelines.forJoin(instance);
      const checkJoin: JoinCheck = (client, params, context) => join(client, params, context, 'subscribe');
      const onWhisper = (instance as Partial<OnWhisper>).onWhisper;
      if (onWhisper !== undefined && !resolved.whispers) {
        throw new RealtimeOptionsError(
          `${classRef.name}.onWhisper is never called: @Channel("${pattern}") does not enable whispers ` +
            `(add { whispers: true })`,
        );
      }
      definition = {
        pattern: compileChannelPattern(pattern),
        classRef,
        options: resolved,
        checkJoin,
        filterWhisper: typeof onWhisper === 'function' ? onWhisper.bind(instance) : undefined,
      };
      this.catalog.add(definition);
    }
    const prototype = Object.getPrototypeOf(instance) as object;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      if (isNearMiss(methodName, 'canJoin')) {
        throw new RealtimeOptionsError(
          `${classRef.name}.${methodName} looks like the join check but is never called: name it canJoin`,
        );
      }
      const method = (prototype as Record<string, unknown>)[methodName];
      const types = this.accessor.getMessageTypes(method);
      if (types.length === 0) {
        continue;
      }
      const handler = this.pipelines.forMessage(instance, methodName);
      const payload = payloadContractOf(instance, methodName);
      for (const type of types) {
        this.table.add({ type, definition, handler, name: `${classRef.name}.${methodName}`, payload });
      }
    }
  }
}
