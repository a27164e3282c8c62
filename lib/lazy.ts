/**
 * Run-time-only imports, through one typed registry. `deno run` prepares
 * every dynamic import whose specifier it can read, npm packages included,
 * before the first line runs: that cost ~5 ms on the `token` hot path for
 * code it never needs (login, OAuth, JSON5, SQLite, PostgreSQL), and literal
 * dynamic imports measured 1.40–1.55× the Deno floor against 1.29×. So the
 * specifier is computed here, once; {@linkcode LazyModules} gives each path
 * its module's type (erased at run time), so a renamed or missing export is
 * a `deno check` error at the caller. `deno compile` bundles these files
 * through `--include lib/` (scripts/compile.ts).
 *
 * @module
 */

/** Every module loaded lazily, by its path under `lib/`, with its type. */
export interface LazyModules {
  "commands/agents.ts": typeof import("./commands/agents.ts");
  "commands/channels.ts": typeof import("./commands/channels.ts");
  "commands/connect.ts": typeof import("./commands/connect.ts");
  "commands/doctor.ts": typeof import("./commands/doctor.ts");
  "commands/exec.ts": typeof import("./commands/exec.ts");
  "commands/git_credential.ts": typeof import("./commands/git_credential.ts");
  "commands/import.ts": typeof import("./commands/import.ts");
  "commands/kube_credential.ts": typeof import("./commands/kube_credential.ts");
  "commands/list.ts": typeof import("./commands/list.ts");
  "commands/login.ts": typeof import("./commands/login.ts");
  "commands/openclaw_secret.ts": typeof import("./commands/openclaw_secret.ts");
  "commands/order.ts": typeof import("./commands/order.ts");
  "commands/paste_token.ts": typeof import("./commands/paste_token.ts");
  "commands/proxy.ts": typeof import("./commands/proxy.ts");
  "commands/remove.ts": typeof import("./commands/remove.ts");
  "commands/report.ts": typeof import("./commands/report.ts");
  "commands/resolve.ts": typeof import("./commands/resolve.ts");
  "commands/setup_token.ts": typeof import("./commands/setup_token.ts");
  "commands/status.ts": typeof import("./commands/status.ts");
  "commands/store.ts": typeof import("./commands/store.ts");
  "commands/token.ts": typeof import("./commands/token.ts");
  "json/json5.ts": typeof import("./json/json5.ts");
  "store/lock.ts": typeof import("./store/lock.ts");
  "oauth/oauth.ts": typeof import("./oauth/oauth.ts");
  "proxy/quota.ts": typeof import("./proxy/quota.ts");
  "routing/lineage.ts": typeof import("./routing/lineage.ts");
  "routing/refresh.ts": typeof import("./routing/refresh.ts");
  "store/json/store.ts": typeof import("./store/json/store.ts");
  "store/openclaw/backend.ts": typeof import("./store/openclaw/backend.ts");
  "store/openclaw/refresh_lock.ts": typeof import("./store/openclaw/refresh_lock.ts");
  "store/openclaw/store.ts": typeof import("./store/openclaw/store.ts");
  "store/postgres/backend.ts": typeof import("./store/postgres/backend.ts");
  "store/postgres/admin.ts": typeof import("./store/postgres/admin.ts");
  "store/postgres/client.ts": typeof import("./store/postgres/client.ts");
  "store/postgres/copy.ts": typeof import("./store/postgres/copy.ts");
  "store/postgres/schema.ts": typeof import("./store/postgres/schema.ts");
  "store/postgres/store.ts": typeof import("./store/postgres/store.ts");
}

/** Imports a module of {@linkcode LazyModules} when called, never before. */
export function load<K extends keyof LazyModules>(path: K): Promise<LazyModules[K]> {
  return import(new URL(`./${path}`, import.meta.url).href);
}
