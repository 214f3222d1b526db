import { createTask, type ScheduledTask } from 'node-cron';
import type { AppContext } from '../context.js';
import { errorMessage } from '../errors.js';
import { runTick } from './tick.js';

/**
 * Runs the tick on TICK_CRON (default every minute). `noOverlap`: a slow tick is never run twice at
 * once in this process; other processes may tick too, which is safe because the tick is idempotent.
 */
export function startTickCron(ctx: AppContext): ScheduledTask {
  // TICK_CRON was validated with the rest of the settings (src/config.ts) before anything started.
  const task = createTask(
    ctx.config.TICK_CRON,
    async () => {
      try {
        const result = await runTick(ctx);
        if (result.chargesCreated || result.sendJobs || result.statusJobs) ctx.logger.info(result, 'tick queued work');
      } catch (err) {
        ctx.logger.error({ err: errorMessage(err) }, 'tick failed; the next one will retry');
      }
    },
    { noOverlap: true, name: 'rentlink-tick' },
  );
  task.start();
  return task;
}
