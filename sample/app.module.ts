import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { RealtimeModule } from 'nestjs-realtime';
import { NotifyController } from './api/notify.controller.js';
import { sampleSecret } from './auth/sample-secret.js';
import { TokenController } from './auth/token.controller.js';
import { PrivateMessages } from './chat/private-messages.js';
import { EventsChannel, RoomChannel } from './chat/room.channel.js';
import { sampleRealtimeOptions } from './realtime-options.js';

@Module({
  imports: [
    JwtModule.registerAsync({
      global: true,
      useFactory: () => ({ secret: sampleSecret(process.env), signOptions: { expiresIn: '12h' } }),
    }),
    RealtimeModule.forRootAsync({ useFactory: () => sampleRealtimeOptions(process.env) }),
  ],
  controllers: [TokenController, NotifyController],
  providers: [RoomChannel, EventsChannel, PrivateMessages],
})
export class AppModule {}
