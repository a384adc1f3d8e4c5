import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { RealtimeModule } from 'nestjs-realtime';
import { NotifyController } from './api/notify.controller.js';
import { SampleAuthenticator } from './auth/sample-authenticator.js';
import { TokenController } from './auth/token.controller.js';
import { PrivateMessages } from './chat/private-messages.js';
import { EventsChannel, RoomChannel } from './chat/room.channel.js';
import { sampleRealtimeOptions } from './realtime-options.js';

/** Used when `SAMPLE_SECRET` is not set: fine on a laptop, never in production. */
export const DEV_SECRET = 'nestjs-realtime-sample-dev-secret';

@Module({
  imports: [
    JwtModule.registerAsync({
      global: true,
      useFactory: () => ({ secret: process.env.SAMPLE_SECRET || DEV_SECRET, signOptions: { expiresIn: '12h' } }),
    }),
    RealtimeModule.forRootAsync({ useFactory: () => sampleRealtimeOptions(process.env) }),
  ],
  controllers: [TokenController, NotifyController],
  providers: [SampleAuthenticator, RoomChannel, EventsChannel, PrivateMessages],
})
export class AppModule {}
