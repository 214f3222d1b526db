import { createTask, validate, type ScheduledTask } from 'node-cron';
import type { AppContext } from '../context.js';
import { RentlinkError, errorMessage } from '../errors.js';
import { runTick } from './tick.js';

/**
 * Runs the tick on TICK_CRON (default every minute). `noOverlap`: a slow tick is never run twice at
 * once in this process; other processes may tick too, which is safe because the tick is idempotent.
 */
export function startTickCron(ctx: AppContext): ScheduledTask {
  if (!validate(ctx.config.TICK_CRON)) {
    throw new RentlinkError('CONFIG_INVALID', `TICK_CRON "${ctx.config.TICK_CRON}" is not a valid cron expression`);
  }
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
