#!/usr/bin/env node
// The package's `bin`: runs the TypeScript CLI through tsx, so `npx rentlink` works from a checkout.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.js');
