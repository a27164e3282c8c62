/**
 * `clawauth import`: adopt credentials other tools already hold, and with
 * `--link` keep their copy working after clawauth refreshes.
 *
 * @module
 */

import { storedProfileId, storedProviderId } from "../provider/names.ts";
import { defineCommand, GLOBAL_HELP } from "../command.ts";
import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { flag } from "../flags.ts";
import { readJsonFile } from "../fs/files.ts";
import { isObject, own, stringAt } from "../json/json.ts";
import { printJson, safeText, warn } from "../output/output.ts";
import { type Paths, resolvePaths } from "../paths.ts";
import { type Found, LINK_KEY, type Source, SOURCES } from "../sources.ts";
import { loginProfileName } from "../oauth/profile.ts";
import { isRetiredProfileId, openclawRenameOf } from "../store/openclaw/profile_ids.ts";
import { putProfile, readStore, type StoreData, updateStore } from "../store.ts";

interface Candidate extends Found {
  source: Source;
  path: string;
}

function readSource(ctx: Context, paths: Paths, source: Source): Candidate[] {
  const path = source.path(ctx, paths);
  // A missing file is no candidates (`undefined` is not an object).
  const data = readJsonFile(path, (reason) =>
    new ClawauthError(
      `${source.tool}'s file ${path} cannot be read: ${reason}.`,
      Exit.data,
      `Fix it with ${source.tool}, or import from another source with --from.`,
    ));
  if (!isObject(data)) return [];
  return source.read(data).map((found) => {
    // Named as the store names them: Codex CLI's login is `openai:codex-cli` in OpenClaw's.
    const provider = stringAt(found.entry, "provider");
    const entry = provider
      ? { ...found.entry, provider: storedProviderId(paths.backend, provider) }
      : found.entry;
    return { id: storedProfileId(paths.backend, found.id), entry, source, path };
  });
}

/**
 * OpenClaw's doctor renames `openai:codex-cli` (Codex CLI's credentials in
 * its store), and the profile then no longer answers to that id. So there a
 * Codex login is named as `login` names one (the account e-mail, else
 * `default`), and an API key as OpenClaw's doctor would rename it
 * (`openai:default`, `openai:cli-default` when a login without e-mail took
 * that).
 */
function keptIds(candidates: Candidate[]): Candidate[] {
  const taken = new Set<string>();
  return candidates.map((candidate) => {
    let id = candidate.id;
    if (isRetiredProfileId(id)) {
      const { entry } = candidate;
      const login = entry.type === "oauth"
        ? `${id.slice(0, id.indexOf(":"))}:${
          loginProfileName(undefined, { email: stringAt(entry, "email") })
        }`
        : undefined;
      id = login && !taken.has(login) ? login : openclawRenameOf(id, taken) ?? id;
    }
    taken.add(id);
    return { ...candidate, id };
  });
}

/** The `import` command. */
export const command = defineCommand({
  flags: {
    from: flag.oneOf([...SOURCES.keys()]),
    "dry-run": flag.boolean(),
    link: flag.boolean(),
    json: flag.boolean(),
  },
  help:
    `Usage: clawauth import [--from openclaw-legacy|claude-code|codex-cli] [--dry-run] [--link] [--json]

Adopts credentials other tools hold: OpenClaw's legacy credentials/oauth.json
(each provider → <provider>:default), Claude Code's ~/.claude/.credentials.json
(→ anthropic:claude-code; $CLAUDE_CONFIG_DIR honoured) and Codex CLI's
~/.codex/auth.json (→ openai-codex:codex-cli, and openai:codex-cli for an API
key; $CODEX_HOME honoured). In the openclaw store, whose OpenClaw retires the
id openai:codex-cli, Codex CLI's login becomes openai:<account e-mail> (else
openai:default) and its API key openai:default (openai:cli-default when the
login took that). Without --from, every source found. Profiles that already
exist are left alone.

A token sink refreshes a shared OAuth login, which rotates the refresh token:
the other tool's copy then stops working. --link has clawauth write every
refreshed token back into that tool's file (atomically, in its own format), so
both keep working, and adopt the tool's newer tokens when its own copy was
rotated elsewhere.

Flags:
  --from SOURCE   only this source
  --dry-run       show what would be imported; change nothing
  --link          keep the source file in step after each refresh
  --json          print {"imported":[{"id","source","linked"}],"skipped":[{"id","reason"}]}
${GLOBAL_HELP}

Examples:
  clawauth import --from claude-code --link
  clawauth import --dry-run`,
  async run(ctx, args) {
    const { from } = args;
    const paths = resolvePaths(args, ctx);
    const sources = from ? [SOURCES.get(from)!] : [...SOURCES.values()];
    const found = sources.flatMap((source) => readSource(ctx, paths, source));
    const candidates = paths.backend === "openclaw" ? keptIds(found) : found;
    const link = args.link;
    const dryRun = args["dry-run"];
    const outcome = {
      imported: [] as { id: string; source: string; linked: boolean }[],
      skipped: [] as { id: string; reason: string }[],
    };
    const apply = (store: StoreData) => {
      for (const c of candidates) {
        const linked = link && c.entry.type === "oauth";
        const existing = own(store.profiles, c.id);
        if (existing !== undefined) {
          // Linking an already imported copy of the same login is an upgrade, not a clash.
          const same = isObject(existing) &&
            stringAt(existing, "refresh") === stringAt(c.entry, "refresh");
          if (!linked || !same) {
            outcome.skipped.push({ id: c.id, reason: "exists" });
            continue;
          }
        }
        const entry = linked
          ? { ...c.entry, [LINK_KEY]: { source: c.source.id, path: c.path } }
          : c.entry;
        if (!dryRun) putProfile(store, c.id, entry);
        outcome.imported.push({ id: c.id, source: c.source.id, linked });
      }
    };
    if (dryRun) apply(await readStore(ctx, paths));
    else {
      await updateStore(ctx, paths, apply);
    }
    const shared = outcome.imported.filter((i) =>
      !i.linked && candidates.find((c) => c.id === i.id)?.entry.type === "oauth"
    );
    if (shared.length > 0) {
      const tools = [...new Set(shared.map((i) => SOURCES.get(i.source)?.tool))].join(" and ");
      warn(
        ctx,
        `once clawauth refreshes ${
          shared.map((i) => i.id).join(", ")
        }, ${tools}'s copy is rotated out and it must log in again. ` +
          "Run the import again with --link to keep both working.",
      );
    }
    if (args.json) {
      printJson(ctx, { dryRun, ...outcome });
      return 0;
    }
    if (candidates.length === 0) {
      ctx.out(
        `Nothing to import: no ${sources.map((s) => s.tool).join(", ")} credentials found.\n`,
      );
      return 0;
    }
    const verb = dryRun ? "Would import" : "Imported";
    for (const item of outcome.imported) {
      ctx.out(
        `${verb} ${safeText(item.id)} from ${item.source}${item.linked ? " (linked)" : ""}.\n`,
      );
    }
    for (const item of outcome.skipped) {
      ctx.out(`Skipped ${safeText(item.id)}: it already exists.\n`);
    }
    return 0;
  },
});
