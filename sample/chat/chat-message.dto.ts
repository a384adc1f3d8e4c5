import { IsString, Length } from 'class-validator';

export class ChatMessageDto {
  @IsString()
  @Length(1, 2000)
  text!: string;
}
