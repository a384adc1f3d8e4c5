import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { RealtimeModule, jwtAuth } from 'nestjs-realtime';
import { RoomChannel } from './room.channel.js';
import { TokenController } from './token.controller.js';

@Module({
  imports: [
    JwtModule.register({ secret: process.env.JWT_SECRET, signOptions: { expiresIn: '1h' } }),
    RealtimeModule.forRoot({
      path: '/realtime',
      // The handshake needs a JWT signed with this secret (HS256; at least 32 bytes): its `sub` is the user.
      authenticate: jwtAuth({ secret: process.env.JWT_SECRET! }),
      // Every @Payload() DTO compiled at boot and checked on each message; undeclared properties are dropped.
      validation: { whitelist: true },
    }),
  ],
  controllers: [TokenController],
  providers: [RoomChannel],
})
export class AppModule {}
