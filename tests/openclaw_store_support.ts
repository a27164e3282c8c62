/**
 * What the OpenClaw store tests share (tests/cli/openclaw_store_*_test.ts,
 * tests/cli/openclaw_db_*_test.ts, tests/cli/openclaw_race_test.ts): OpenClaw's
 * SQLite state DB read and edited as a test fixture would (not through
 * lib/store/openclaw/db.ts), OpenClaw's and clawauth's views of the profiles,
 * and a Codex login on a copy of the prepared state dir.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { exists } from "../lib/fs/files.ts";
import { oauthRefreshLockTarget } from "../lib/store/openclaw/fence.ts";
import type { SandboxIdp } from "../scripts/sandbox_idp.ts";
import { fakeSecret, type RunResult } from "./helpers.ts";
import { idpFor, loginVia } from "./oauth_helpers.ts";
import type { OpenclawResult, OpenclawState } from "./openclaw_env.ts";

/** Every fence value OpenClaw writes starts so; none may ever be printed. */
export const FENCE_PREFIX = "openclaw-oauth-refresh-fence:v1:";
/** The profile id every OAuth test logs in as (`--provider openai-codex --profile me`). */
export const CODEX_ID = "openai:me";

/** A stored credential, typed loosely for assertions. */
export type Entry = Record<string, unknown>;
/** Profiles by id. */
export type Profiles = Record<string, Entry>;

/** A setup-token long enough for OpenClaw's own check (80+ characters). */
export function setupToken(): string {
  return fakeSecret("sk-ant-oat01-") + fakeSecret("");
}

// ---------------------------------------------------------------------------
// The state dir and OpenClaw's databases, as a test fixture sees them
// ---------------------------------------------------------------------------

/** The files OpenClaw 2026.9 retired, relative to the state dir (main agent). */
const RETIRED_FILES = [
  "agents/main/agent/auth-profiles.json",
  "agents/main/agent/auth-state.json",
  "agents/main/agent/auth.json",
  "credentials/oauth.json",
] as const;
/** Their names, looked for anywhere in the state dir (any agent). */
const RETIRED_NAMES = new Set(["auth-profiles.json", "auth-state.json", "auth.json", "oauth.json"]);

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, prefix = ""): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(`${dir}/${prefix}`)) {
    const relative = `${prefix}${entry.name}`;
    if (entry.isDirectory) found.push(...filesUnder(dir, `${relative}/`));
    else found.push(relative);
  }
  return found.sort();
}

/** Retired JSON files present in the state dir: the known paths, and those names anywhere. */
export function retiredFilesIn(state: OpenclawState): string[] {
  const named = filesUnder(state.dir).filter((path) =>
    RETIRED_NAMES.has(path.slice(path.lastIndexOf("/") + 1))
  );
  const known = RETIRED_FILES.filter((path) => exists(`${state.dir}/${path}`));
  return [...new Set([...known, ...named])].sort();
}

/** The SQLite databases (`*.sqlite`) in the state dir. */
export function sqliteFiles(state: OpenclawState): string[] {
  return filesUnder(state.dir).filter((path) => path.endsWith(".sqlite"));
}

/** A database's schema: `PRAGMA user_version` and every `sqlite_master` row. */
export function schemaOf(path: string): { userVersion: number; objects: unknown[] } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const version = db.prepare("PRAGMA user_version").get() as { user_version: number };
    const objects = db.prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
    ).all().map((row) => ({ ...row }));
    return { userVersion: version.user_version, objects };
  } finally {
    db.close();
  }
}

/** The shared auth rows (`config_machine_state` `auth%`) with their timestamps. */
export function sharedAuthRows(state: OpenclawState): unknown[] {
  const db = new DatabaseSync(state.stateDb, { readOnly: true });
  try {
    return db.prepare(
      "SELECT * FROM config_machine_state WHERE state_key LIKE 'auth%' ORDER BY state_key",
    ).all().map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

/** One shared document of OpenClaw's state DB, parsed (`undefined` when the row is absent). */
function sharedDocument(state: OpenclawState, key: string): Record<string, unknown> | undefined {
  const db = new DatabaseSync(state.stateDb, { readOnly: true });
  try {
    const row = db.prepare("SELECT value_json FROM config_machine_state WHERE state_key = ?")
      .get(key) as { value_json: string } | undefined;
    return row ? JSON.parse(row.value_json) : undefined;
  } finally {
    db.close();
  }
}

/** The profiles of the shared store document, `authProfiles.store`. */
export function storedProfiles(state: OpenclawState): Profiles {
  return (sharedDocument(state, "authProfiles.store")?.profiles ?? {}) as Profiles;
}

/** `usageStats` of the shared state document, `authProfiles.state`. */
export function storedUsage(state: OpenclawState): Record<string, Record<string, unknown>> {
  return (sharedDocument(state, "authProfiles.state")?.usageStats ?? {}) as Record<
    string,
    Record<string, unknown>
  >;
}

/**
 * Rewrites one profile of the shared store document in place, as another
 * OpenClaw process would: one `BEGIN IMMEDIATE` transaction, everything else
 * in the document kept, `updated_at_ms` moved.
 */
export function editStoredProfile(
  state: OpenclawState,
  id: string,
  edit: (entry: Entry) => Entry,
): void {
  const db = new DatabaseSync(state.stateDb);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("BEGIN IMMEDIATE");
    try {
      const row = db.prepare("SELECT value_json FROM config_machine_state WHERE state_key = ?")
        .get("authProfiles.store") as { value_json: string } | undefined;
      assert.ok(row, "the shared store document exists");
      const doc = JSON.parse(row.value_json) as { profiles: Profiles };
      assert.ok(doc.profiles[id], `the shared store holds ${id}`);
      doc.profiles[id] = edit(doc.profiles[id]);
      db.prepare(
        "UPDATE config_machine_state SET value_json = ?, updated_at_ms = ? WHERE state_key = ?",
      ).run(JSON.stringify(doc), Date.now(), "authProfiles.store");
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  } finally {
    db.close();
  }
}

/** Moves a stored login's expiry into the past, as time would (default {@linkcode CODEX_ID}). */
export function expire(state: OpenclawState, id: string = CODEX_ID): void {
  editStoredProfile(state, id, (entry) => ({ ...entry, expires: Date.now() - 60_000 }));
}

// ---------------------------------------------------------------------------
// OpenClaw's refresh protocol (fences, the refresh lock), written by hand as OpenClaw would
// ---------------------------------------------------------------------------

function hex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The credential with OpenClaw's refresh fence in place of its tokens
 * (`createOAuthRefreshFence`): a new claim id, SHA-256 generation digests of
 * the secrets it fences, `expires: 1`; `failed` marks the claim as failed.
 */
export async function fenced(entry: Entry, id: string, failed = false): Promise<Entry> {
  const claim = hex(16);
  const value = async (kind: "access" | "refresh"): Promise<string> => {
    const digest = await sha256Hex(
      JSON.stringify([
        "openclaw.oauth-refresh-generation",
        1,
        id,
        entry.provider,
        kind,
        entry[kind],
      ]),
    );
    return `${FENCE_PREFIX}${claim}:${failed ? "failed:" : ""}${kind}:${digest}`;
  };
  const { idToken: _idToken, ...rest } = entry;
  return { ...rest, access: await value("access"), refresh: await value("refresh"), expires: 1 };
}

/**
 * Settles the pending fence `pending` on {@linkcode CODEX_ID} as OpenClaw's
 * refresh would: `original` with new tokens valid for an hour. Asserts the
 * fence was left alone until then (`who` waited for it). Returns the new access token.
 */
export function settleFence(
  state: OpenclawState,
  fence: { pending: Entry; original: Entry; who: string },
): string {
  const settled = fakeSecret("settled-at-");
  editStoredProfile(state, CODEX_ID, (entry) => {
    assert.deepEqual(
      entry,
      fence.pending,
      `${fence.who} left OpenClaw's fence alone while it waited`,
    );
    return {
      ...fence.original,
      access: settled,
      refresh: fakeSecret("settled-rt-"),
      expires: Date.now() + 3_600_000,
    };
  });
  return settled;
}

/** `/proc/<pid>/stat` field 22 (starttime), read as OpenClaw's `getProcessStartTime` does. */
function processStartTime(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 1).trimStart().split(/\s+/);
  return Number(fields[19]);
}

/**
 * Takes OpenClaw's per-profile refresh lock for `pid`: the sidecar
 * `<target>.lock`, created O_EXCL 0600 with the payload OpenClaw's file lock
 * writes. Returns its path and text.
 */
export function takeRefreshLock(
  state: OpenclawState,
  provider: string,
  profileId: string,
  pid: number,
): { path: string; text: string } {
  const path = `${oauthRefreshLockTarget(state.dir, provider, profileId)}.lock`;
  for (const dir of [`${state.dir}/locks`, `${state.dir}/locks/oauth-refresh`]) {
    Deno.mkdirSync(dir, { recursive: true });
    Deno.chmodSync(dir, 0o700);
  }
  const text = JSON.stringify({
    pid,
    createdAt: new Date().toISOString(),
    starttime: processStartTime(pid),
  });
  const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
  try {
    file.writeSync(new TextEncoder().encode(text));
  } finally {
    file.close();
  }
  return { path, text };
}

/** A live process to name as a lock holder (`sleep`), killed when disposed. */
export function sleeper(): Deno.ChildProcess {
  return new Deno.Command("sleep", {
    args: ["300"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

// ---------------------------------------------------------------------------
// Running clawauth and OpenClaw
// ---------------------------------------------------------------------------

/** Runs a clawauth command that must succeed. */
export async function clawauth(
  state: OpenclawState,
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const result = await state.run(args, opts);
  assert.equal(
    result.code,
    0,
    `clawauth ${args.join(" ")} exited ${result.code}: ${result.stderr}`,
  );
  return result;
}

/** Asserts an OpenClaw run succeeded without AUTH_PROFILE_MIGRATION_REQUIRED; returns it. */
export function assertOpenclawOk(result: OpenclawResult, what: string): OpenclawResult {
  const printed = `${result.stdout}\n${result.stderr}`;
  assert.doesNotMatch(printed, /AUTH_PROFILE_MIGRATION_REQUIRED/, `${what}:\n${printed}`);
  assert.equal(result.code, 0, `${what} exited ${result.code}:\n${printed}`);
  return result;
}

/**
 * `openclaw models auth paste-token` of `token` as profile `id` (its provider
 * from the id), plus `extra` (e.g. `--agent work`); the result is not checked.
 */
export function openclawPasteToken(
  state: OpenclawState,
  paste: { id: string; token: string; extra?: string[] },
): Promise<OpenclawResult> {
  const provider = paste.id.slice(0, paste.id.indexOf(":"));
  return state.openclaw(
    ["models", "auth", "paste-token", "--provider", provider, "--profile-id", paste.id].concat(
      paste.extra ?? [],
    ),
    { stdin: `${paste.token}\n` },
  );
}

/** One profile as `openclaw models status --json` lists it (`auth.oauth`). */
export interface ListedProfile {
  profileId: string;
  provider: string;
  type: string;
  status?: string;
  expiresAt?: number;
}

/** What `openclaw models status --json` said, and everything it printed. */
export interface OpenclawView {
  profiles: Map<string, ListedProfile>;
  /** Profile ids listed under each provider. */
  byProvider: Map<string, string[]>;
  /** The profile ids OpenClaw would use per provider, in its order. */
  effective: Record<string, string[]>;
  printed: string;
}

/** `openclaw models status --json` (≈ 1.5 s), for `agent` when given. */
export async function openclawStatus(state: OpenclawState, agent?: string): Promise<OpenclawView> {
  const result = await state.openclaw([
    "models",
    "status",
    ...(agent ? ["--agent", agent] : []),
    "--json",
  ]);
  assertOpenclawOk(result, "openclaw models status --json");
  const oauth = JSON.parse(result.stdout).auth.oauth as {
    profiles: ListedProfile[];
    providers: {
      provider: string;
      profiles: ListedProfile[];
      effectiveProfiles: ListedProfile[];
    }[];
  };
  return {
    profiles: new Map(oauth.profiles.map((p) => [p.profileId, p])),
    byProvider: new Map(
      oauth.providers.map((p) => [p.provider, p.profiles.map((x) => x.profileId)]),
    ),
    effective: Object.fromEntries(
      oauth.providers.map((p) => [p.provider, p.effectiveProfiles.map((x) => x.profileId)]),
    ),
    printed: `${result.stdout}\n${result.stderr}`,
  };
}

/** A profile as `clawauth status --json` / `list --json` print it. */
export interface ClawauthProfile {
  id: string;
  provider: string;
  type: string;
  state: string;
  expires: number | null;
}

/** `clawauth status --json` or `list --json`: the profiles by id, and all it printed. */
export async function clawauthProfiles(
  state: OpenclawState,
  command: "status" | "list",
): Promise<{ profiles: Map<string, ClawauthProfile>; printed: string }> {
  const result = await clawauth(state, [command, "--json"]);
  const profiles = (JSON.parse(result.stdout) as { profiles: ClawauthProfile[] }).profiles;
  return {
    profiles: new Map(profiles.map((p) => [p.id, p])),
    printed: `${result.stdout}\n${result.stderr}`,
  };
}

/** A logged-in Codex profile ({@linkcode CODEX_ID}) on a fresh copy, with the IdP behind it. */
export async function codexLogin(state: OpenclawState): Promise<SandboxIdp> {
  const idp = await idpFor(state);
  try {
    const id = await loginVia(idp, state, ["--profile", "me"]);
    assert.equal(id, CODEX_ID, "a Codex login is stored as OpenClaw's provider openai");
    return idp;
  } catch (error) {
    await idp.close();
    throw error;
  }
}
