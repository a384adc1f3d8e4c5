import { Matches } from 'class-validator';

/** Sample user names (also room and event names): 1 to 32 letters, digits, `_` or `-`. */
export const USER_NAME = /^[A-Za-z0-9_-]{1,32}$/;

export function isUserName(value: unknown): value is string {
  return typeof value === 'string' && USER_NAME.test(value);
}

/** Validates a DTO property as a sample name. */
export function IsUserName(): PropertyDecorator {
  return Matches(USER_NAME, { message: '$property must be 1 to 32 letters, digits, "_" or "-"' });
}
