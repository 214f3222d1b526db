CREATE TABLE `charges` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`lease_id` integer NOT NULL,
	`period` text NOT NULL,
	`due_date` text NOT NULL,
	`send_at` integer NOT NULL,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`status` text DEFAULT 'scheduled' NOT NULL,
	`reissue_count` integer DEFAULT 0 NOT NULL,
	`status_reason` text,
	`paid_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`lease_id`) REFERENCES `leases`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `charges_lease_period` ON `charges` (`lease_id`,`period`);--> statement-breakpoint
CREATE INDEX `charges_status` ON `charges` (`status`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`type` text NOT NULL,
	`actor` text NOT NULL,
	`lease_id` integer,
	`charge_id` integer,
	`link_id` integer,
	`details` text DEFAULT '{}' NOT NULL,
	`dedupe_key` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_dedupe_key_unique` ON `events` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `events_charge` ON `events` (`charge_id`);--> statement-breakpoint
CREATE INDEX `events_type_at` ON `events` (`type`,`at`);--> statement-breakpoint
CREATE TABLE `leases` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ref` text NOT NULL,
	`tenant_id` integer NOT NULL,
	`unit` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`due_day` integer NOT NULL,
	`lead_days` integer DEFAULT 0 NOT NULL,
	`valid_days` integer NOT NULL,
	`timezone` text NOT NULL,
	`channel` text NOT NULL,
	`provider` text DEFAULT 'myfatoorah' NOT NULL,
	`max_reissues` integer DEFAULT 0 NOT NULL,
	`starts_on` text NOT NULL,
	`ends_on` text,
	`state` text DEFAULT 'active' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "leases_due_day" CHECK("leases"."due_day" BETWEEN 1 AND 31),
	CONSTRAINT "leases_amount_positive" CHECK("leases"."amount_minor" > 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `leases_ref_unique` ON `leases` (`ref`);--> statement-breakpoint
CREATE TABLE `payment_links` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`charge_id` integer NOT NULL,
	`attempt` integer NOT NULL,
	`reference` text NOT NULL,
	`provider` text NOT NULL,
	`channel` text NOT NULL,
	`status` text DEFAULT 'creating' NOT NULL,
	`provider_invoice_id` text,
	`url` text,
	`expires_at` integer NOT NULL,
	`create_calls` integer DEFAULT 0 NOT NULL,
	`payment_id` text,
	`gateway` text,
	`paid_amount_minor` integer,
	`paid_at` integer,
	`poll_count` integer DEFAULT 0 NOT NULL,
	`next_check_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`charge_id`) REFERENCES `charges`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payment_links_reference_unique` ON `payment_links` (`reference`);--> statement-breakpoint
CREATE UNIQUE INDEX `payment_links_charge_attempt` ON `payment_links` (`charge_id`,`attempt`);--> statement-breakpoint
CREATE UNIQUE INDEX `payment_links_one_open_per_charge` ON `payment_links` (`charge_id`) WHERE "payment_links"."status" IN ('creating', 'open');--> statement-breakpoint
CREATE INDEX `payment_links_next_check` ON `payment_links` (`status`,`next_check_at`);--> statement-breakpoint
CREATE INDEX `payment_links_invoice` ON `payment_links` (`provider_invoice_id`);--> statement-breakpoint
CREATE INDEX `payment_links_payment` ON `payment_links` (`payment_id`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`email` text,
	`mobile` text,
	`mobile_country_code` text,
	`language` text DEFAULT 'en' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
