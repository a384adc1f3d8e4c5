import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { RealtimeModule } from 'nestjs-realtime';
import { JwtAuthenticator } from './jwt.authenticator.js';
import { RoomChannel } from './room.channel.js';

@Module({
  imports: [
    JwtModule.register({ secret: process.env.JWT_SECRET }),
    RealtimeModule.forRoot({ path: '/realtime', authenticate: JwtAuthenticator }),
  ],
  providers: [JwtAuthenticator, RoomChannel],
})
export class AppModule {}
