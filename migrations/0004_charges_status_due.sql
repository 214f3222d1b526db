DROP INDEX `charges_status`;--> statement-breakpoint
CREATE INDEX `charges_status_due` ON `charges` (`status`,`due_date`);