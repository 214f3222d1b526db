import type { Command } from 'commander';

/** Operator commands (jobs, charges, leases, report). */
export function registerAdminCommands(_program: Command): void {}
