import { Module } from '@nestjs/common';
import { RealtimeModule, jwtAuth } from 'nestjs-realtime';
import { RoomChannel } from './room.channel.js';

@Module({
  imports: [
    RealtimeModule.forRoot({
      path: '/realtime',
      // The handshake needs a JWT signed with this secret (HS256; at least 32 bytes): its `sub` is the user.
      authenticate: jwtAuth({ secret: process.env.JWT_SECRET! }),
      // Every @Payload() DTO compiled at boot and checked on each message; undeclared properties are dropped.
      validation: { whitelist: true },
    }),
  ],
  providers: [RoomChannel],
})
export class AppModule {}
