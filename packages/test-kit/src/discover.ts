import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** `dist/**\/*.test.js` under each package folder (node_modules skipped). */
export function findTestFiles(packageDirs: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules') continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.test.js')) files.push(full);
    }
  };
  for (const pkg of packageDirs) {
    const dist = join(resolve(pkg), 'dist');
    if (existsSync(dist)) walk(dist);
  }
  return files;
}

/** Every workspace package folder (packages/*, services/*) of the repository. */
export function workspacePackages(root: string): string[] {
  const out: string[] = [];
  for (const group of ['packages', 'services']) {
    const dir = join(resolve(root), group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (existsSync(join(dir, name, 'package.json'))) out.push(join(dir, name));
    }
  }
  return out;
}

export const isIntegrationTest = (file: string): boolean => file.endsWith('.it.test.js');
