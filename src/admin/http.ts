import type { Hono } from 'hono';
import type { App } from '../app.js';

/** Admin API, pages, queue dashboard and metrics. */
export function registerAdminRoutes(_http: Hono, _app: App): void {}
