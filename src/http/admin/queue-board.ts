import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';
import type { App } from '../../app.js';

const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * bull-board at /admin/queues. The adapter needs the full public base path twice: for the UI's links
 * (setBasePath) and to strip it from static asset requests, so it must equal the mount point. Auth
 * comes from the /admin guard, which is registered before this and so runs first.
 */
export function registerQueueBoard(http: Hono, app: App): void {
  const adapter = new HonoAdapter(serveStatic).setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: app.queues.all().map(({ queue }) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'rentlink queues' } },
  });
  // The UI's client-side router lands on `/admin/queues/`; a reload there must still find the board.
  http.get(`${QUEUE_BOARD_PATH}/`, (c) => c.redirect(QUEUE_BOARD_PATH, 301));
  http.route(QUEUE_BOARD_PATH, adapter.registerPlugin());
}
