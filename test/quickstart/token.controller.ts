import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

// Stands in for your sign-in: GET /token?user=alice gives a token for alice. Use your real login instead.
@Controller()
export class TokenController {
  constructor(private readonly jwt: JwtService) {}

  @Get('token')
  token(@Query('user') user = '') {
    if (!/^[\w-]{1,32}$/.test(user)) {
      throw new BadRequestException('user: 1 to 32 letters, digits, _ or -');
    }
    return { token: this.jwt.sign({ sub: user }) };
  }
}
