import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { IsString, Length } from 'class-validator';
import { MessageType, RealtimeService, eventType } from 'nestjs-realtime';
import { IsUserName } from '../auth/user-name.js';

class AlertBody {
  @IsString()
  @Length(1, 200)
  title!: string;

  @IsString()
  @Length(1, 2000)
  body!: string;
}

class NotifyBody extends AlertBody {
  @IsUserName()
  user!: string;
}

class EventParams {
  @IsUserName()
  name!: string;
}

/**
 * Server-side sends over REST. A real app would protect these routes; the sample leaves them open to show the API.
 */
@Controller('api')
export class NotifyController {
  constructor(private readonly realtime: RealtimeService) {}

  /** A `notification` to every device of a user. */
  @Post('notify')
  @HttpCode(202)
  async notify(@Body() { user, title, body }: NotifyBody): Promise<{ id: string | undefined }> {
    const { envelope: sent } = await this.realtime.sendToUser(user, {
      type: MessageType.NOTIFICATION,
      payload: { title, body },
    });
    return { id: sent.id };
  }

  /** An `alert` to everyone connected. */
  @Post('alert')
  @HttpCode(202)
  async alert(@Body() { title, body }: AlertBody): Promise<{ id: string | undefined }> {
    const { envelope: sent } = await this.realtime.broadcastAll({ type: MessageType.ALERT, payload: { title, body } });
    return { id: sent.id };
  }

  /** `event:<name>` to the subscribers of `events:<name>`, with the JSON body (any JSON) as payload. */
  @Post('events/:name')
  @HttpCode(202)
  async event(@Param() { name }: EventParams, @Body() payload: unknown): Promise<{ id: string | undefined }> {
    const { envelope: sent } = await this.realtime.broadcastToChannel(`events:${name}`, {
      type: eventType(name),
      payload,
    });
    return { id: sent.id };
  }
}
