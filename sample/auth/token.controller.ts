import { Controller, Get, Query, UsePipes, ValidationPipe } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { userColor } from './user-color.js';
import { IsUserName } from './user-name.js';

class TokenQuery {
  @IsUserName()
  user!: string;
}

/**
 * Issues demo tokens (12 hours; the realtime connection is warned before expiry and the page's client SDK refreshes
 * in band). A real app authenticates the user first; this sample trusts the name it is given.
 */
@Controller('api/token')
@UsePipes(new ValidationPipe({ whitelist: true }))
export class TokenController {
  constructor(private readonly jwt: JwtService) {}

  @Get()
  async issue(@Query() query: TokenQuery): Promise<{ token: string }> {
    return { token: await this.jwt.signAsync({ sub: query.user, color: userColor(query.user) }) };
  }
}
