/**
 * Run-time-only imports. `deno run` prepares every dynamic import whose
 * specifier it can read, npm packages included, before the first line runs:
 * that cost ~5 ms on the `token` hot path for code it never needs (login,
 * OAuth, JSON5). A computed specifier is prepared only when imported.
 * `deno compile` bundles these files through `--include lib/`
 * (scripts/compile.ts).
 *
 * @module
 */

/**
 * Imports `relative` (resolved against `base`, the caller's
 * `import.meta.url`) when called. Type it with `typeof import(…)`, which is
 * erased at run time.
 */
export function lazyImport<T>(relative: string, base: string): Promise<T> {
  return import(new URL(relative, base).href);
}
