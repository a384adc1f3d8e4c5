import { Injectable } from '@nestjs/common';
import type { ChannelMetadata } from '../decorators/channel.decorator.js';
import { CHANNEL_METADATA, MESSAGE_METADATA } from '../realtime.constants.js';

/** Typed reads of what the decorators wrote. */
@Injectable()
export class RealtimeMetadataAccessor {
  getChannel(classRef: unknown): ChannelMetadata | undefined {
    return typeof classRef === 'function'
      ? (Reflect.getMetadata(CHANNEL_METADATA, classRef) as ChannelMetadata | undefined)
      : undefined;
  }

  getMessageTypes(method: unknown): readonly string[] {
    return typeof method === 'function'
      ? ((Reflect.getMetadata(MESSAGE_METADATA, method) as string[] | undefined) ?? [])
      : [];
  }
}
