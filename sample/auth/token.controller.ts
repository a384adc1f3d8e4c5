import { Controller, Get, Query } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { Matches } from 'class-validator';
import { USER_NAME } from './user-name.js';

class TokenQuery {
  @Matches(USER_NAME, { message: 'user must be 1 to 32 letters, digits, "_" or "-"' })
  user!: string;
}

/** Issues demo tokens. A real app authenticates the user first; this sample trusts the name it is given. */
@Controller('api/token')
export class TokenController {
  constructor(private readonly jwt: JwtService) {}

  @Get()
  async issue(@Query() query: TokenQuery): Promise<{ token: string }> {
    return { token: await this.jwt.signAsync({ sub: query.user }) };
  }
}
