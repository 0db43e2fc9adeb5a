// The README and docs/ link to each other: every relative link names a file that exists and, with
// a #fragment, a heading in it (GitHub's anchors: lower case, punctuation dropped, spaces as -).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? markdownFiles(path.join(dir, e.name)) : e.name.endsWith('.md') ? [path.join(dir, e.name)] : []));
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^ {4}.*$/gm, '');
  return new Set([...text.matchAll(/^#+ (.*)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
}

test('every relative link in README.md and docs/ resolves to a file and a heading', () => {
  const files = [path.join(root, 'README.md'), ...markdownFiles(path.join(root, 'docs'))];
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/^ {4}.*$/gm, ''); // not inside indented code
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto:
      const [rel, fragment] = target.split('#');
      const dest = rel ? path.resolve(path.dirname(file), rel) : file;
      if (!existsSync(dest)) broken.push(`${path.relative(root, file)}: ${target} (no such file)`);
      else if (fragment && dest.endsWith('.md') && !anchors(dest).has(fragment)) broken.push(`${path.relative(root, file)}: ${target} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});
