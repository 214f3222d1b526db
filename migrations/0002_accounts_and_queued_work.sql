CREATE TABLE `admin_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `admin_sessions_expires` ON `admin_sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
DROP INDEX `payment_links_next_check`;--> statement-breakpoint
DROP INDEX `payment_links_invoice`;--> statement-breakpoint
ALTER TABLE `payment_links` ADD `kind` text DEFAULT 'first' NOT NULL;--> statement-breakpoint
ALTER TABLE `payment_links` ADD `account` text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE `payment_links` ADD `check_job` text;--> statement-breakpoint
ALTER TABLE `payment_links` ADD `check_queued_at` integer;--> statement-breakpoint
ALTER TABLE `payment_links` ADD `canceled_at_provider` integer;--> statement-breakpoint
CREATE INDEX `payment_links_check_due` ON `payment_links` (`next_check_at`) WHERE "payment_links"."next_check_at" IS NOT NULL AND "payment_links"."check_queued_at" IS NULL;--> statement-breakpoint
CREATE INDEX `payment_links_check_queued` ON `payment_links` (`check_queued_at`) WHERE "payment_links"."next_check_at" IS NOT NULL AND "payment_links"."check_queued_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `payment_links_provider_link` ON `payment_links` (`account`,`provider_invoice_id`);--> statement-breakpoint
ALTER TABLE `charges` ADD `link_attempt` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `charges` ADD `next_send_at` integer;--> statement-breakpoint
ALTER TABLE `charges` ADD `send_job` text;--> statement-breakpoint
ALTER TABLE `charges` ADD `send_queued_at` integer;--> statement-breakpoint
ALTER TABLE `charges` ADD `extra_payments` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `charges` ADD `extra_paid_minor` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `charges` ADD `extra_reviewed_at` integer;--> statement-breakpoint
CREATE INDEX `charges_period` ON `charges` (`period`,`currency`);--> statement-breakpoint
CREATE INDEX `charges_send_due` ON `charges` (`next_send_at`) WHERE "charges"."next_send_at" IS NOT NULL AND "charges"."send_queued_at" IS NULL;--> statement-breakpoint
CREATE INDEX `charges_send_queued` ON `charges` (`send_queued_at`) WHERE "charges"."next_send_at" IS NOT NULL AND "charges"."send_queued_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `charges_extra_payments` ON `charges` (`extra_payments`) WHERE "charges"."extra_payments" > 0;--> statement-breakpoint
ALTER TABLE `leases` ADD `account` text;--> statement-breakpoint
ALTER TABLE `leases` ADD `paid_through` text;--> statement-breakpoint
ALTER TABLE `leases` ADD `next_send_at` integer;--> statement-breakpoint
CREATE INDEX `leases_next_send` ON `leases` (`next_send_at`) WHERE "leases"."state" = 'active' AND "leases"."next_send_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `events_link` ON `events` (`link_id`);--> statement-breakpoint
CREATE INDEX `events_lease` ON `events` (`lease_id`);--> statement-breakpoint
-- Data: rentlink's own channel words instead of MyFatoorah's NotificationOption codes.
UPDATE `leases` SET `channel` = CASE `channel` WHEN 'EML' THEN 'email' WHEN 'SMS' THEN 'sms' WHEN 'ALL' THEN 'both' WHEN 'LNK' THEN 'link' ELSE `channel` END;--> statement-breakpoint
UPDATE `payment_links` SET `channel` = CASE `channel` WHEN 'EML' THEN 'email' WHEN 'SMS' THEN 'sms' WHEN 'ALL' THEN 'both' WHEN 'LNK' THEN 'link' ELSE `channel` END;--> statement-breakpoint
UPDATE `payment_links` SET `provider` = 'myfatoorah' WHERE `provider` = 'sandbox';--> statement-breakpoint
UPDATE `payment_links` SET `kind` = 'reissue' WHERE `attempt` > 1;--> statement-breakpoint
UPDATE `charges` SET `link_attempt` = `reissue_count` + 1;--> statement-breakpoint
-- Every active lease is looked at by the next tick, which then sets its next send instant.
UPDATE `leases` SET `next_send_at` = 0 WHERE `state` = 'active';--> statement-breakpoint
-- Open charges without an open link need a send; open links keep their planned check.
UPDATE `charges` SET `next_send_at` = `updated_at` WHERE `status` IN ('scheduled', 'invoiced') AND NOT EXISTS (SELECT 1 FROM `payment_links` WHERE `payment_links`.`charge_id` = `charges`.`id` AND `payment_links`.`status` = 'open');
