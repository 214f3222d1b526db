// Run after `npm install` changes package-lock.json. The npm registry mirror used by this project's
// machines lacks some platform builds of optional native packages (e.g. msgpackr-extract for macOS and
// Windows). npm then writes a lock whose optionalDependencies name packages it never locked, and
// `npm ci` refuses it as "out of sync". This drops those dangling optional entries; nothing installed
// changes, because optional packages that cannot be fetched are skipped anyway.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const locked = new Set(Object.keys(lock.packages).map((key) => key.replace(/^.*node_modules\//, '')));
let dropped = 0;
for (const pkg of Object.values(lock.packages)) {
  for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
    if (!locked.has(name)) {
      delete pkg.optionalDependencies[name];
      dropped++;
    }
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`prune-lock: dropped ${dropped} optional dependencies that are not in the lock`);
