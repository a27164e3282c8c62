/**
 * Other tools' credential files that `import` adopts and `--link` keeps in
 * step: OpenClaw's legacy `credentials/oauth.json`, Claude Code's
 * `~/.claude/.credentials.json` and Codex CLI's `~/.codex/auth.json`. Each
 * source is data plus two small functions: read its entries, and write
 * rotated tokens back in the tool's own format (other keys kept).
 *
 * @module
 */

import type { Context } from "./context.ts";
import { ClawauthError, Exit } from "./errors.ts";
import {
  child,
  isObject,
  type JsonObject,
  numberAt,
  own,
  parseJson,
  stringAt,
} from "./json/json.ts";
import { jwtClaims } from "./oauth/jwt.ts";
import { join, type Paths } from "./paths.ts";

/** A credential found in another tool's file. */
export interface Found {
  /** Profile id it becomes. */
  id: string;
  /** The profile entry (credential fields only). */
  entry: JsonObject;
}

/** Tokens to write back after a refresh. */
export interface Rotated {
  access?: string;
  refresh?: string;
  expires?: number;
}

/** One importable tool. */
export interface Source {
  /** The `--from` name. */
  id: string;
  /** The tool, for messages. */
  tool: string;
  /** Where its file lives. */
  path(ctx: Context, paths: Paths): string;
  /** The credentials in its parsed file. */
  read(data: JsonObject): Found[];
  /** Puts rotated tokens of `provider`'s login into its parsed file, in place. */
  writeBack(data: JsonObject, provider: string, tokens: Rotated, now: number): void;
}

function home(ctx: Context): string {
  return ctx.env("HOME") || ctx.env("USERPROFILE") || ".";
}

function jwtExpiry(token: string): number | undefined {
  const exp = numberAt(jwtClaims(token), "exp");
  return exp === undefined ? undefined : exp * 1000;
}

const defined = (entry: JsonObject): JsonObject =>
  Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined));

/** OpenClaw's legacy `{"<provider>": {access, refresh, expires}}`. */
const openclawLegacy: Source = {
  id: "openclaw-legacy",
  tool: "OpenClaw (legacy)",
  path: (_ctx, paths) => paths.legacy,
  read: (data) =>
    Object.entries(data).flatMap(([provider, entry]) =>
      isObject(entry)
        ? [{ id: `${provider}:default`, entry: { ...entry, type: "oauth", provider } }]
        : []
    ),
  writeBack(data, provider, tokens) {
    Object.assign(child(data, provider), defined({ ...tokens }));
  },
};

/** Claude Code's `claudeAiOauth` (expiresAt in ms). */
const claudeCode: Source = {
  id: "claude-code",
  tool: "Claude Code",
  path: (ctx) =>
    join(ctx.env("CLAUDE_CONFIG_DIR") || join(home(ctx), ".claude"), ".credentials.json"),
  read(data) {
    const oauth = own(data, "claudeAiOauth");
    if (!isObject(oauth) || !stringAt(oauth, "accessToken")) return [];
    return [{
      id: "anthropic:claude-code",
      entry: defined({
        type: "oauth",
        provider: "anthropic",
        access: stringAt(oauth, "accessToken"),
        refresh: stringAt(oauth, "refreshToken"),
        expires: numberAt(oauth, "expiresAt"),
      }),
    }];
  },
  writeBack(data, _provider, tokens) {
    Object.assign(
      child(data, "claudeAiOauth"),
      defined({
        accessToken: tokens.access,
        refreshToken: tokens.refresh,
        expiresAt: tokens.expires,
      }),
    );
  },
};

/** Codex CLI's `tokens` (and a plain `OPENAI_API_KEY`). */
const codexCli: Source = {
  id: "codex-cli",
  tool: "Codex CLI",
  path: (ctx) => join(ctx.env("CODEX_HOME") || join(home(ctx), ".codex"), "auth.json"),
  read(data) {
    const found: Found[] = [];
    const tokens = own(data, "tokens");
    const access = isObject(tokens) ? stringAt(tokens, "access_token") : undefined;
    if (isObject(tokens) && access) {
      found.push({
        id: "openai-codex:codex-cli",
        entry: defined({
          type: "oauth",
          provider: "openai-codex",
          access,
          refresh: stringAt(tokens, "refresh_token"),
          expires: jwtExpiry(access),
          accountId: stringAt(tokens, "account_id"),
          email: stringAt(jwtClaims(stringAt(tokens, "id_token")), "email"),
        }),
      });
    }
    const key = stringAt(data, "OPENAI_API_KEY");
    if (key) {
      found.push({ id: "openai:codex-cli", entry: { type: "api_key", provider: "openai", key } });
    }
    return found;
  },
  writeBack(data, _provider, tokens, now) {
    Object.assign(
      child(data, "tokens"),
      defined({ access_token: tokens.access, refresh_token: tokens.refresh }),
    );
    data.last_refresh = new Date(now).toISOString();
  },
};

/** Every source, by `--from` name. */
export const SOURCES: ReadonlyMap<string, Source> = new Map(
  [openclawLegacy, claudeCode, codexCli].map((source) => [source.id, source]),
);

/** The link a `--link`ed profile carries (an extra key OpenClaw ignores). */
export interface Link {
  source: string;
  path: string;
}

/** The profile key that holds a {@linkcode Link}. */
export const LINK_KEY = "clawauthLink";

/** The link of a profile entry, if it has a valid one. */
export function linkOf(entry: JsonObject): Link | undefined {
  const link = own(entry, LINK_KEY);
  if (!isObject(link)) return undefined;
  const source = stringAt(link, "source");
  const path = stringAt(link, "path");
  return source && path && SOURCES.has(source) ? { source, path } : undefined;
}

/** Adds each legacy `{provider: {access, refresh, expires…}}` entry as `<provider>:default`. */
export function importLegacy(
  store: { profiles: JsonObject },
  text: string,
  path: string,
): string[] {
  const added: string[] = [];
  for (const { id, entry } of openclawLegacyEntries(text, path)) {
    if (Object.hasOwn(store.profiles, id)) continue;
    store.profiles[id] = entry;
    added.push(id);
  }
  return added;
}

/** The logins of a legacy `credentials/oauth.json`, each as `<provider>:default`. */
export function openclawLegacyEntries(text: string, path: string): Found[] {
  const data = parseJson(text, (reason) =>
    new ClawauthError(
      `The legacy file ${path} cannot be read: ${reason}.`,
      Exit.data,
      "Fix or move it aside; it is imported once, when the main agent has no store yet.",
    ));
  return isObject(data) ? openclawLegacy.read(data) : [];
}
