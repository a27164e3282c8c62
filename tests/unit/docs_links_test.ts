/**
 * The repository explains itself (docs/README.md): no tracked file may send
 * a reader outside it, and every link into the documentation must land.
 *
 * Over `git ls-files`, each tracked text file is checked for:
 * - names of things outside the repository: a `../shared` path, an absolute
 *   `/work/` path, the external contract's `SPEC §N` sections, and the bare
 *   names of the external `SPEC.md`, `NOTES.md` and `STYLE.md`
 *   (a longer name such as `OPENCLAW_NOTES.md` passes);
 * - in Markdown files, every relative link `[text](path#anchor)` (outside
 *   code blocks and code spans): the path must be tracked (a file, or a
 *   folder holding tracked files) and inside the repository, and an anchor
 *   into a Markdown file must be the slug of one of its headings (GitHub's
 *   rule); a same-file `#anchor` likewise;
 * - in every file, each `docs/<name>.md[#anchor]` and `README.md#anchor`
 *   reference, read from the repository's root, by the same rules.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const SELF = "tests/unit/docs_links_test.ts";

/** What a file says that points outside the repository, by pattern. */
const OUTSIDE: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /\.\.\/shared\b/, what: "a path outside the repository (../shared)" },
  { pattern: /(?:^|[\s"'`(=:])\/work\//m, what: "an absolute path of a build machine (/work/)" },
  { pattern: /(?<![\w-])(?:SPEC|NOTES|STYLE)\.md\b/, what: "a document outside the repository" },
  { pattern: /\bSPEC \u00a7/, what: "a section of a contract outside the repository (use docs/)" },
];

/** One problem found, as `path:line: message`. */
type Finding = string;

/** The repository as the check sees it: tracked paths and their text. */
interface Tree {
  /** Tracked file paths, relative to the root. */
  files: ReadonlySet<string>;
  /** The text of a tracked file, or `undefined` for a binary one. */
  read(path: string): string | undefined;
}

/** GitHub's heading anchor: lower case, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Lines of a Markdown text outside fenced code blocks (others become empty). */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split("\n").map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (!fence || marker.startsWith(fence))) {
      fence = fence ? undefined : marker;
      return "";
    }
    return fence ? "" : line;
  });
}

/** The anchors a Markdown text defines: heading slugs (numbered when repeated) and explicit ids. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]);
  }
  return anchors;
}

/** `from`'s folder joined with `target`, normalised; `undefined` when it leaves the root. */
function resolvePath(from: string, target: string): string | undefined {
  const parts = from.split("/").slice(0, -1);
  for (const part of decodeURI(target).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join("/");
}

function isTracked(tree: Tree, path: string): boolean {
  if (path === "" || tree.files.has(path)) return true;
  const prefix = `${path}/`;
  for (const file of tree.files) if (file.startsWith(prefix)) return true;
  return false;
}

/** Checks one reference from `from` to `path#anchor` (path relative to the root). */
function checkTarget(tree: Tree, path: string, anchor: string | undefined): string | undefined {
  if (!isTracked(tree, path)) return `${path} does not exist in the repository`;
  if (anchor === undefined || !path.endsWith(".md")) return undefined;
  const text = tree.read(path);
  if (text !== undefined && !anchorsOf(text).has(anchor)) {
    return `${path} has no heading #${anchor}`;
  }
  return undefined;
}

/** Every problem of one tracked file. */
function checkFile(tree: Tree, path: string): Finding[] {
  const text = tree.read(path);
  if (text === undefined) return [];
  const findings = new Set<Finding>();
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    const at = `${path}:${index + 1}`;
    for (const { pattern, what } of OUTSIDE) {
      const match = pattern.exec(line);
      if (match) findings.add(`${at}: ${what}: ${match[0].trim()}`);
    }
    for (
      const match of line.matchAll(/(?<![\w./-])(docs\/[\w./-]*?\.md|README\.md)(?:#([\w-]+))?/g)
    ) {
      const [whole, target, anchor] = match;
      if (target === "README.md" && anchor === undefined) continue;
      const problem = checkTarget(tree, target, anchor);
      if (problem) findings.add(`${at}: ${whole}: ${problem}`);
    }
  });
  if (path.endsWith(".md")) {
    proseLines(text).forEach((line, index) => {
      const at = `${path}:${index + 1}`;
      const prose = line.replace(/`[^`]*`/g, "");
      for (const match of prose.matchAll(/\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)/g)) {
        const link = match[1];
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue;
        const hash = link.indexOf("#");
        const target = hash < 0 ? link : link.slice(0, hash);
        const anchor = hash < 0 ? undefined : link.slice(hash + 1);
        if (target.startsWith("/")) {
          findings.add(`${at}: ${link}: an absolute path, outside the repository`);
          continue;
        }
        const resolved = target === "" ? path : resolvePath(path, target);
        if (resolved === undefined) {
          findings.add(`${at}: ${link}: leaves the repository`);
          continue;
        }
        const problem = checkTarget(tree, resolved, anchor);
        if (problem) findings.add(`${at}: ${link}: ${problem}`);
      }
    });
  }
  return [...findings];
}

/** Every problem of every file of `tree`. */
function checkTree(tree: Tree): Finding[] {
  return [...tree.files].sort().flatMap((path) => checkFile(tree, path));
}

/** A tree held in memory, for the checker's own tests. */
function memoryTree(files: Record<string, string>): Tree {
  return { files: new Set(Object.keys(files)), read: (path) => files[path] };
}

/** The repository's tracked files, read from disk. */
function gitTree(): Tree {
  const output = new Deno.Command("git", { args: ["ls-files", "-z"], cwd: ROOT, stdout: "piped" })
    .outputSync();
  assert.equal(output.code, 0, "git ls-files failed: the check needs a git checkout");
  const files = new Set(new TextDecoder().decode(output.stdout).split("\0").filter(Boolean));
  const decoder = new TextDecoder("utf-8", { fatal: true });
  return {
    files,
    read(path) {
      if (path === SELF) return undefined; // it spells out the very patterns it looks for
      let bytes: Uint8Array;
      try {
        bytes = Deno.readFileSync(`${ROOT}/${path}`);
      } catch {
        return undefined; // deleted in the working tree: nothing to read
      }
      if (bytes.subarray(0, 8000).includes(0)) return undefined;
      try {
        return decoder.decode(bytes);
      } catch {
        return undefined;
      }
    },
  };
}

Deno.test("slug: GitHub's anchors for the headings the docs use", () => {
  assert.equal(slug("Failover: report"), "failover-report");
  assert.equal(slug("OpenClaw's refresh lock and fences"), "openclaws-refresh-lock-and-fences");
  assert.equal(slug("OpenClaw ≥ 2026.9: SQLite rows"), "openclaw--20269-sqlite-rows");
  assert.equal(slug("The proxy: `clawauth proxy`"), "the-proxy-clawauth-proxy");
  assert.equal(slug('pi "!command"'), "pi-command");
  assert.equal(slug("Where credentials live"), "where-credentials-live");
});

Deno.test("anchors: repeated headings are numbered, code blocks are not headings", () => {
  const anchors = anchorsOf(
    '# A\n## Speed\n```sh\n# not a heading\n```\n## Speed\n<a id="x"></a>\n',
  );
  assert.deepEqual([...anchors].sort(), ["a", "speed", "speed-1", "x"]);
});

Deno.test("the checker flags paths outside the repository and links that do not land", () => {
  const tree = memoryTree({
    "README.md": [
      "# Title",
      "## Install",
      "See [docs](docs/a.md), [a heading](docs/a.md#one), [missing](docs/gone.md),",
      "[bad anchor](docs/a.md#two), [here](#install), [not here](#nowhere), [web](https://x.example/y),",
      "[up](../outside.md), [folder](docs/), `[code](nowhere.md)`",
      "```",
      "[fenced](nowhere.md)",
      "```",
    ].join("\n"),
    "docs/a.md": "# One\n[back](../README.md#install) [sibling](b.md)\n",
    "lib/x.ts": [
      "// docs/a.md#one is fine; docs/a.md#three is not; README.md#install is fine",
      "// see ../" + "shared/NOTES.md and " + "SPEC §4, and STYLE" + ".md",
      "// OPENCLAW_NOTES.md is ours; so is lib/store/OPENCLAW_NOTES.md",
      'const root = "/work/' + 'main";',
    ].join("\n"),
  });
  const findings = checkTree(tree).map((f) => f.replace(/^([^:]+:\d+): /, "$1 "));
  const expected = [
    "README.md:3 docs/gone.md: docs/gone.md does not exist in the repository",
    "README.md:4 docs/a.md#two: docs/a.md has no heading #two",
    "README.md:4 #nowhere: README.md has no heading #nowhere",
    "README.md:5 ../outside.md: leaves the repository",
    "docs/a.md:2 b.md: docs/b.md does not exist in the repository",
    "lib/x.ts:1 docs/a.md#three: docs/a.md has no heading #three",
    "lib/x.ts:2 a path outside the repository (../shared): ../shared",
    "lib/x.ts:2 a document outside the repository: NOTES.md",
    "lib/x.ts:2 a section of a contract outside the repository (use docs/): SPEC \u00a7",
    'lib/x.ts:4 an absolute path of a build machine (/work/): "/work/',
  ];
  for (const line of expected) {
    assert.ok(findings.includes(line), `missing: ${line}\n${findings.join("\n")}`);
  }
  assert.equal(findings.length, expected.length, findings.join("\n"));
});

Deno.test("no tracked file points outside the repository or at a doc that does not exist", () => {
  const findings = checkTree(gitTree());
  assert.deepEqual(findings, [], `\n${findings.join("\n")}\n`);
});
