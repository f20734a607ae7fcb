/** Where `serve` listens by default. Kept apart from server.ts so the CLI can print them without loading the HTTP stack. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8081;
