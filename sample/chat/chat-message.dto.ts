import { IsIn, IsString, Length } from 'class-validator';

export class ChatMessageDto {
  @IsString()
  @Length(1, 2000)
  text!: string;
}

/** A member's presence status. */
export const STATUSES = ['online', 'away', 'busy'] as const;

export class StatusDto {
  @IsIn(STATUSES)
  status!: (typeof STATUSES)[number];
}
