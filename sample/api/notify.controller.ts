import { Body, Controller, HttpCode, Param, Post, UsePipes, ValidationPipe } from '@nestjs/common';
import { IsString, Length, Matches } from 'class-validator';
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

/**
 * An event name the wire protocol takes in both places the route puts it: the type `event:<name>` (at most 64
 * letters, digits or `_ . : / -`) and the channel `events:<name>`. Send a `/` as `%2F` in the URL.
 */
const EVENT_NAME = /^[A-Za-z0-9_.:/-]{1,58}$/;

class EventParams {
  @Matches(EVENT_NAME, { message: 'name must be 1 to 58 letters, digits or "_ . : / -" characters' })
  name!: string;
}

/**
 * Server-side sends over REST. A real app would protect these routes; the sample leaves them open to show the API.
 */
@Controller('api')
@UsePipes(new ValidationPipe({ whitelist: true }))
export class NotifyController {
  constructor(private readonly realtime: RealtimeService) {}

  /** A `notification` to every device of a user; `online` says whether the user had one connected anywhere. */
  @Post('notify')
  @HttpCode(202)
  async notify(@Body() { user, title, body }: NotifyBody): Promise<{ id: string | undefined; online: boolean }> {
    const { envelope, online } = await this.realtime.sendToUser(user, {
      type: MessageType.NOTIFICATION,
      payload: { title, body },
    });
    return { id: envelope.id, online };
  }

  /** An `alert` to everyone connected. */
  @Post('alert')
  @HttpCode(202)
  async alert(@Body() { title, body }: AlertBody): Promise<{ id: string | undefined }> {
    const { envelope: sent } = await this.realtime.broadcastAll({ type: MessageType.ALERT, payload: { title, body } });
    return { id: sent.id };
  }

  /**
   * `event:<name>` to the subscribers of `events:<name>`, with the JSON body (any JSON) as payload. Any event name
   * the wire protocol accepts: `deploy:eu-1/v2.3` is `POST /api/events/deploy:eu-1%2Fv2.3`.
   */
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
