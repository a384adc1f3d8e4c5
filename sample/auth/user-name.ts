/** Sample user names: 1 to 32 letters, digits, `_` or `-`. */
export const USER_NAME = /^[A-Za-z0-9_-]{1,32}$/;

export function isUserName(value: unknown): value is string {
  return typeof value === 'string' && USER_NAME.test(value);
}
