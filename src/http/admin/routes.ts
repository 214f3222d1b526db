import type { Hono } from 'hono';
import type { App } from '../../app.js';
import { registerApiRoutes } from './api.js';
import { adminGuard, registerLoginRoutes } from './auth.js';
import { limitRequestBody } from '../limits.js';
import { registerMetricsRoute } from '../metrics.js';
import { registerPages } from './pages.js';
import { registerQueueBoard } from './queue-board.js';

/**
 * Admin API (`/admin/api/*`), pages (`/admin`, `/admin/charges/:id`), login, the queue dashboard
 * (`/admin/queues`) and `/metrics`. The body limit and then the guard are registered first: Hono runs
 * middleware in registration order, so every /admin route after them is capped and protected,
 * including ones added later, and an oversized body is refused before anyone is authenticated.
 */
export function registerAdminRoutes(http: Hono, app: App): void {
  registerMetricsRoute(http, app);
  http.use('/admin/*', limitRequestBody(app.config.MAX_BODY_BYTES));
  http.use('/admin/*', adminGuard(app));
  registerLoginRoutes(http, app);
  registerApiRoutes(http, app);
  registerQueueBoard(http, app);
  registerPages(http, app);
}
