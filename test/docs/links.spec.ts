import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const root = new URL('../../', import.meta.url).pathname;
const pages = [
  'README.md',
  'ARCHITECTURE.md',
  'bench/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The text outside fenced code blocks (links in examples are not links). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- ]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const headings = prose(readFileSync(file, 'utf8'))
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => slug(line.replace(/^#+ /, '')));
  return new Set(headings);
}

/** Every relative link of a page: its target file and anchor. */
function linksOf(page: string): { text: string; file: string; anchor: string | undefined }[] {
  const links: { text: string; file: string; anchor: string | undefined }[] = [];
  for (const [, text, target] of prose(readFileSync(join(root, page), 'utf8')).matchAll(/\[([^\]]*)\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target)) {
      continue; // https:, mailto:
    }
    const [path, anchor] = target.split('#');
    links.push({ text, file: path === '' ? join(root, page) : join(root, dirname(page), path), anchor });
  }
  return links;
}

describe('links in README.md, ARCHITECTURE.md and docs/', () => {
  it.each(pages)('%s: every relative link reaches a file, and a heading of it when it names one', (page) => {
    const broken = linksOf(page)
      .filter(({ file, anchor }) => !existsSync(file) || (anchor !== undefined && !anchorsOf(file).has(anchor)))
      .map(({ text, file, anchor }) => `[${text}](${relative(root, file)}${anchor === undefined ? '' : `#${anchor}`})`);
    expect(broken).toEqual([]);
  });

  it('reaches every page of docs/ from the README', () => {
    const linked = new Set(linksOf('README.md').map(({ file }) => relative(root, file)));
    const unlinked = pages.filter((page) => page.startsWith('docs/') && !linked.has(page));
    expect(unlinked).toEqual([]);
  });
});
