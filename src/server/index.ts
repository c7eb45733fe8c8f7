export { type AppOptions, createApp, DEFAULT_BODY_LIMIT_BYTES } from './app.js';
export { ApiError, UnsafeBindError } from './errors.js';
export { type RunningServer, type ServerOptions, startServer } from './serve.js';
