/** Used when `SAMPLE_SECRET` is not set: fine on a laptop, never in production. */
export const DEV_SECRET = 'nestjs-realtime-sample-dev-secret';

/** The secret tokens are signed (`GET /api/token`) and verified (`jwtAuth`) with: at least 32 bytes. */
export function sampleSecret(env: NodeJS.ProcessEnv): string {
  return env.SAMPLE_SECRET || DEV_SECRET;
}
