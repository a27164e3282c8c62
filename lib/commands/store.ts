/**
 * `clawauth store init|status|copy|keygen|rotate-key`: set up and look after
 * a fleet store (PostgreSQL, docs/fleet.md), and move profiles between it and a
 * local store. The database client loads only for the actions that need it.
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import type { Context } from "../context.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { flag } from "../flags.ts";
import { load } from "../lazy.ts";
import { printJson, safeText, table } from "../output/output.ts";
import { stateDirOf, type StateFlags, type StateRef, stateRefOf } from "../paths.ts";
import { readSecret } from "../login/secret_input.ts";
import { namedStore, openclawStateDbPath } from "../store/kind.ts";
import {
  decodeKeyText,
  generateKeyText,
  importStoreKey,
  readKeyFile,
} from "../store/postgres/crypto.ts";

type Admin = typeof import("../store/postgres/admin.ts");
type Copy = typeof import("../store/postgres/copy.ts");
type Lock = typeof import("../store/lock.ts");

const admin = () => load("store/postgres/admin.ts");
const copier = () => load("store/postgres/copy.ts");
const lock = () => load("store/lock.ts");

async function timeoutOf(ctx: Context): Promise<number> {
  return (await lock()).lockTimeoutMs(ctx);
}

/** `store keygen [--out FILE]`: a fresh key on stdout, or in a new 0600 file. */
function keygen(ctx: Context, out: string | undefined): number {
  const key = generateKeyText();
  if (out === undefined) {
    ctx.out(`${key}\n`);
    return 0;
  }
  try {
    // createNew: an existing key file (maybe the fleet's only copy) is never overwritten.
    Deno.writeTextFileSync(out, `${key}\n`, { createNew: true, mode: 0o600 });
    if (Deno.build.os !== "windows") Deno.chmodSync(out, 0o600);
  } catch (error) {
    throw new ClawauthError(
      `Cannot write the key to ${safeText(out)} (${
        error instanceof Deno.errors.AlreadyExists
          ? "it exists; a key file is never overwritten"
          : error instanceof Error
          ? error.message
          : error
      }).`,
      Exit.failure,
      "Pick a new file name.",
    );
  }
  ctx.out(
    `Wrote a new store key to ${out} (0600). Give every machine of the fleet a copy, as CLAWAUTH_STORE_KEY_FILE.\n`,
  );
  return 0;
}

async function init(ctx: Context, state: StateRef): Promise<number> {
  const result = await (await admin()).initFleet(ctx, state, await timeoutOf(ctx));
  const what = result.from === 0
    ? `Created the clawauth schema (version ${result.to})`
    : result.from === result.to
    ? `The clawauth schema is already at version ${result.to}`
    : `Migrated the clawauth schema from version ${result.from} to ${result.to}`;
  ctx.out(
    `${what} in ${state.url}${
      result.canaryCreated ? "; this key is now the store's key" : "; the key matches"
    }.\n`,
  );
  return 0;
}

async function status(ctx: Context, state: StateRef, json: boolean): Promise<number> {
  const found = await (await admin()).fleetStatus(ctx, state);
  if (json) {
    printJson(ctx, found);
    return 0;
  }
  const schema = found.schema.version === null
    ? `none (run: clawauth store init --store ${found.url})`
    : `${found.schema.version} (this clawauth: ${found.schema.client})`;
  const key = {
    ok: `ok (key id ${found.keyId})`,
    wrong: `WRONG: key ${found.keyId} does not open this store`,
    missing: "not set (CLAWAUTH_STORE_KEY or CLAWAUTH_STORE_KEY_FILE)",
    "no-canary": "no canary yet (run: clawauth store init)",
  }[found.key] ?? found.key;
  ctx.out(
    [
      `store     ${found.url}`,
      `server    PostgreSQL ${found.server}`,
      `tls       sslmode=${found.tls.sslmode}, ${
        found.tls.inUse ? `in use (${found.tls.version})` : "not in use"
      }`,
      `schema    ${schema}`,
      `key       ${key}`,
      `lineages  ${found.lineages}`,
      "",
    ].join("\n"),
  );
  if (found.agents.length === 0) ctx.out("No agents yet.\n");
  else {
    ctx.out(table(
      ["AGENT", "PROFILES", "TYPES"],
      found.agents.map((a) => [
        a.id,
        String(a.profiles),
        Object.entries(a.types).map(([type, n]) => `${type} ${n}`).join(", "),
      ]),
    ));
  }
  return 0;
}

/** A `--from`/`--to` endpoint: `json`, `openclaw` or a fleet URL, over this run's state dir. */
function endpoint(stateDir: string, named: string, flag: string): StateRef {
  const { backend, url } = namedStore(named);
  if (flag === "to" && backend === "openclaw") {
    throw usageError("store copy writes to a fleet store (URL) or to json only.", "store");
  }
  return url === undefined ? { stateDir, backend } : { stateDir, backend, url };
}

async function copy(
  ctx: Context,
  stateDir: string,
  opts: { from?: string; to?: string; agent?: string; dryRun: boolean; force: boolean },
): Promise<number> {
  if (!opts.from || !opts.to) {
    throw usageError("store copy needs --from json|openclaw|URL and --to URL|json.", "store");
  }
  const from = endpoint(stateDir, opts.from, "from");
  const to = endpoint(stateDir, opts.to, "to");
  if (from.backend === to.backend && from.url === to.url) {
    throw usageError("--from and --to name the same store.", "store");
  }
  if (from.backend !== "postgres" && to.backend !== "postgres") {
    throw usageError("store copy moves profiles to or from a fleet store (a URL).", "store");
  }
  if (to.backend === "json") {
    try {
      if (Deno.statSync(openclawStateDbPath(stateDir)).isFile) {
        throw new ClawauthError(
          `${stateDir} holds OpenClaw's SQLite store; a JSON store beside it would lock OpenClaw's providers out.`,
          Exit.failure,
          "Copy into another state dir (--state-dir DIR).",
        );
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const { applyCopy, planCopy } = await copier();
  const plans = await planCopy(ctx, { from, to, only: opts.agent });
  const label = (state: StateRef) => state.url ?? `${state.backend} store in ${stateDir}`;
  const differing: string[] = [];
  let oauth = 0;
  for (const plan of plans) {
    const count = (status: string) => plan.items.filter((i) => i.status === status).length;
    const profiles = plan.items.filter((i) => i.group === "profiles");
    ctx.out(
      `agent ${plan.agent}: ${profiles.filter((i) => i.status === "new").length} new profile(s), ${
        profiles.filter((i) => i.status === "different").length
      } different, ${
        profiles.filter((i) => i.status === "same").length
      } the same; routing and other entries: ${
        count("new") - profiles.filter((i) => i.status === "new").length
      } new, ${
        count("different") - profiles.filter((i) => i.status === "different").length
      } different\n`,
    );
    for (const item of plan.items) {
      if (item.status === "same") continue;
      const name = item.group === "profiles" ? item.key : `${item.group}.${item.key}`;
      ctx.out(
        `  ${item.status === "new" ? "+" : opts.force ? "~" : "!"} ${safeText(name, 100)}\n`,
      );
      if (item.status === "different") differing.push(`${plan.agent}/${name}`);
      const type = (item.value as { type?: unknown } | null)?.type;
      if (item.group === "profiles" && type === "oauth") oauth++;
    }
  }
  if (differing.length > 0 && !opts.force) {
    throw new ClawauthError(
      `${differing.length} entr${differing.length === 1 ? "y" : "ies"} of ${
        label(to)
      } differ from ${label(from)} (${
        differing.slice(0, 3).map((d) => safeText(d, 60)).join(", ")
      }${differing.length > 3 ? ", …" : ""}), so nothing was copied.`,
      Exit.failure,
      "Add --force to overwrite them (--dry-run shows the plan).",
    );
  }
  if (opts.dryRun) {
    ctx.out(`Dry run: nothing was written to ${label(to)}.\n`);
    return 0;
  }
  const written = await applyCopy(ctx, to, plans, opts.force);
  ctx.out(
    `Copied ${written} entr${written === 1 ? "y" : "ies"} from ${label(from)} to ${label(to)}.\n`,
  );
  if (oauth > 0) {
    ctx.err(
      `note: both stores now hold the same ${oauth} OAuth login(s); the first refresh on either side retires the other's refresh token. Use only ${
        label(to)
      } from now on (CLAWAUTH_STORE), and remove the logins from the other store.\n`,
    );
  }
  return 0;
}

async function rotate(ctx: Context, state: StateRef, file: string | undefined): Promise<number> {
  let text: string;
  if (file !== undefined) text = readKeyFile(file);
  else if (ctx.stdinIsTTY) {
    throw usageError(
      "rotate-key reads the new key from --new-key-file FILE or a pipe: clawauth store keygen --out new.key, then clawauth store rotate-key --new-key-file new.key.",
      "store",
    );
  } else text = await readSecret(ctx, "New store key: ");
  const next = await importStoreKey(decodeKeyText(text, file ?? "The new key"), file ?? "stdin");
  const result = await (await admin()).rotateKey(ctx, state, next, await timeoutOf(ctx));
  ctx.out(
    `Re-encrypted ${result.profiles} profile(s) of ${state.url} under key ${result.newKeyId} (was ${result.oldKeyId}). Give every machine the new key now (CLAWAUTH_STORE_KEY or CLAWAUTH_STORE_KEY_FILE): the old one no longer opens the store.\n`,
  );
  return 0;
}

/** The `store` command. */
export const command = defineCommand({
  positionals: {
    choose: "action",
    from: { init: [], status: [], copy: [], keygen: [], "rotate-key": [] },
  },
  flags: {
    json: flag.boolean(),
    from: flag.string(),
    to: flag.string(),
    "dry-run": flag.boolean(),
    force: flag.boolean(),
    out: flag.string(),
    "new-key-file": flag.string(),
  },
  help: `Usage: clawauth store init
       clawauth store status [--json]
       clawauth store copy --from json|openclaw|URL --to URL|json [--dry-run] [--force]
       clawauth store keygen [--out FILE]
       clawauth store rotate-key [--new-key-file FILE]

A fleet store is one PostgreSQL database that many machines share: name it
with --store postgres://USER@HOST[:PORT]/DB[?sslmode=verify-full], or
CLAWAUTH_STORE, or clawauth.json's "store". The password comes from
PGPASSWORD, ~/.pgpass or the URL's passfile, never from the URL. Secrets are
encrypted on this machine (AES-256-GCM) with the key in CLAWAUTH_STORE_KEY
(base64 of 32 bytes) or the 0600 file CLAWAUTH_STORE_KEY_FILE.

Actions:
  init        create the schema "clawauth" (or migrate it forward) and record
              the key's canary; run once per fleet, with the fleet's key
  status      the URL, server, TLS, schema version, key check, agents and
              profile counts (no secret is decrypted)
  copy        copy every agent's profiles and routing state between this
              state dir's store (json or openclaw) and a fleet store; entries
              that differ in the target are refused without --force
  keygen      print a fresh key, or write it to a new 0600 file (--out)
  rotate-key  re-encrypt every secret under a new key, in one transaction;
              the new key comes from --new-key-file or stdin, never argv

Flags:
  --from, --to     (copy) json, openclaw (from only) or a postgres:// URL
  --dry-run        (copy) show what would be copied; write nothing
  --force          (copy) overwrite entries that differ in the target
  --out FILE       (keygen) write the key to FILE (created 0600, never overwritten)
  --new-key-file FILE  (rotate-key) the new key, a 0600 file
  --json           (status) print the status as JSON
${GLOBAL_HELP}

Examples:
  clawauth store keygen --out ~/.config/clawauth/fleet.key
  export CLAWAUTH_STORE=postgres://clawauth@db.internal/clawauth?sslmode=verify-full
  export CLAWAUTH_STORE_KEY_FILE=~/.config/clawauth/fleet.key
  clawauth store init
  clawauth store copy --from json --to "$CLAWAUTH_STORE" --dry-run`,
  async run(ctx, args) {
    switch (args.action) {
      case "keygen":
        return keygen(ctx, args.out);
      case "init":
        return await init(ctx, fleetState(ctx, args));
      case "status":
        return await status(ctx, fleetState(ctx, args), args.json);
      case "copy":
        return await copy(ctx, stateDirOf(args, ctx), {
          from: args.from,
          to: args.to,
          agent: args.agent,
          dryRun: args["dry-run"],
          force: args.force,
        });
      case "rotate-key":
        return await rotate(ctx, fleetState(ctx, args), args["new-key-file"]);
    }
  },
});

/** The run's store, which these actions need to be a fleet store. */
function fleetState(ctx: Context, flags: StateFlags): StateRef {
  const state = stateRefOf(flags, ctx);
  if (state.backend !== "postgres") {
    throw new ClawauthError(
      `This run's store is ${state.backend}; store init, status and rotate-key work on a fleet store.`,
      Exit.usage,
      "Name it: --store postgres://USER@HOST/DB, or set CLAWAUTH_STORE.",
    );
  }
  return state;
}
