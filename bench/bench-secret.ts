/** The JWT secret the benchmark's library server verifies and the load generator signs with. */
export const BENCH_SECRET = 'nestjs-realtime-bench-secret-of-32-bytes';
