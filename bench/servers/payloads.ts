// The validated payloads of the bench protocol, shared by the Nest servers (the library's app and the gateway).
import { IsInt, IsString, Length } from 'class-validator';

export class ChatMessage {
  @IsString()
  @Length(1, 2000)
  text!: string;

  @IsInt()
  t!: number;
}

export class EchoRequest {
  @IsInt()
  n!: number;
}
