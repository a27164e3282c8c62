/**
 * The `openclaw` store backend, black-box: the real clawauth CLI and the real
 * OpenClaw CLI (2026.9.6, tests/openclaw_env.ts) on copies of one state dir
 * that `openclaw doctor --fix` prepared, with the sandbox identity provider
 * (scripts/sandbox_idp.ts) standing in for auth.openai.com. What clawauth
 * writes must be what OpenClaw reads (and the other way round), without a
 * doctor run in between; the retired JSON files never appear; a Codex login
 * is OpenClaw's `openai` OAuth profile and is never handed out as an OpenAI
 * API key; refreshes happen once, and OpenClaw's refresh lock and fences are
 * honoured (SPEC §1 "Store backends", §4; lib/store/OPENCLAW_NOTES.md).
 *
 * Ignored, saying why, when OpenClaw is not installed. OpenClaw's CLI costs
 * 1.2–8 s a call, so a test runs it at most once, and only where OpenClaw's
 * own view is the point; the rest is read from its SQLite rows directly.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { oauthRefreshLockTarget } from "../lib/store/openclaw_fence.ts";
import type { SandboxIdp } from "../scripts/sandbox_idp.ts";
import { fakeSecret, ignoredSuffix, leaks, type RunResult } from "./helpers.ts";
import { idpFor, loginVia } from "./oauth_helpers.ts";
import {
  openclawAvailable,
  type OpenclawResult,
  type OpenclawState,
  openclawState,
  skipReason,
} from "./openclaw_env.ts";

const ignore = !openclawAvailable;
const SUFFIX = ignoredSuffix(ignore ? skipReason : undefined);

/** Every fence value OpenClaw writes starts so; none may ever be printed. */
const FENCE_PREFIX = "openclaw-oauth-refresh-fence:v1:";
/** The files OpenClaw 2026.9 retired, relative to the state dir (main agent). */
const RETIRED_FILES = [
  "agents/main/agent/auth-profiles.json",
  "agents/main/agent/auth-state.json",
  "agents/main/agent/auth.json",
  "credentials/oauth.json",
] as const;
/** Their names, looked for anywhere in the state dir (any agent). */
const RETIRED_NAMES = new Set(["auth-profiles.json", "auth-state.json", "auth.json", "oauth.json"]);
/** The profile id every OAuth test logs in as (`--provider openai-codex --profile me`). */
const CODEX_ID = "openai:me";

type Entry = Record<string, unknown>;
type Profiles = Record<string, Entry>;

// ---------------------------------------------------------------------------
// The state dir and OpenClaw's databases, as a test fixture sees them
// ---------------------------------------------------------------------------

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
function retiredFilesIn(state: OpenclawState): string[] {
  const named = filesUnder(state.dir).filter((path) =>
    RETIRED_NAMES.has(path.slice(path.lastIndexOf("/") + 1))
  );
  const known = RETIRED_FILES.filter((path) => exists(`${state.dir}/${path}`));
  return [...new Set([...known, ...named])].sort();
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The SQLite databases (`*.sqlite`) in the state dir. */
function sqliteFiles(state: OpenclawState): string[] {
  return filesUnder(state.dir).filter((path) => path.endsWith(".sqlite"));
}

/** A database's schema: `PRAGMA user_version` and every `sqlite_master` row. */
function schemaOf(path: string): { userVersion: number; objects: unknown[] } {
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
function sharedAuthRows(state: OpenclawState): unknown[] {
  const db = new DatabaseSync(state.stateDb, { readOnly: true });
  try {
    return db.prepare(
      "SELECT state_key, value_json, updated_at_ms FROM config_machine_state " +
        "WHERE state_key LIKE 'auth%' ORDER BY state_key",
    ).all().map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

/** The profiles of the shared store document, `authProfiles.store`. */
function storedProfiles(state: OpenclawState): Profiles {
  const db = new DatabaseSync(state.stateDb, { readOnly: true });
  try {
    const row = db.prepare("SELECT value_json FROM config_machine_state WHERE state_key = ?")
      .get("authProfiles.store") as { value_json: string } | undefined;
    return row ? (JSON.parse(row.value_json) as { profiles: Profiles }).profiles : {};
  } finally {
    db.close();
  }
}

/**
 * Rewrites one profile of the shared store document in place, as another
 * OpenClaw process would: one `BEGIN IMMEDIATE` transaction, everything else
 * in the document kept, `updated_at_ms` moved.
 */
function editStoredProfile(state: OpenclawState, id: string, edit: (entry: Entry) => Entry): void {
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

// ---------------------------------------------------------------------------
// Running clawauth and OpenClaw
// ---------------------------------------------------------------------------

/** Runs a clawauth command that must succeed. */
async function clawauth(
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

/** A clawauth process started in the background; killed when disposed while it still runs. */
interface Running extends AsyncDisposable {
  /** Whether it has exited. */
  exited(): boolean;
  /** Its result; killed (and the test failed) when it runs longer than `timeoutMs`. */
  result(timeoutMs: number): Promise<RunResult>;
}

/** Starts clawauth without waiting for it (stdin closed). */
function startClawauth(
  state: OpenclawState,
  args: string[],
  env: Record<string, string> = {},
): Running {
  const child = state.spawn(args, { env, stdin: "null" });
  let done = false;
  const kill = (): void => {
    try {
      child.kill("SIGKILL");
    } catch { /* it exited meanwhile */ }
  };
  const output = child.output().then((out): RunResult => {
    done = true;
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  });
  return {
    exited: () => done,
    async result(timeoutMs: number): Promise<RunResult> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), timeoutMs);
      });
      try {
        const first = await Promise.race([output, late]);
        if (first !== "late") return first;
        kill();
        const killed = await output;
        assert.fail(
          `clawauth ${args.join(" ")} still ran after ${timeoutMs} ms (killed): ${killed.stderr}`,
        );
      } finally {
        clearTimeout(timer);
      }
    },
    async [Symbol.asyncDispose](): Promise<void> {
      if (!done) kill();
      await output;
    },
  };
}

/** Polls `condition` every 25 ms until it holds or `timeoutMs` passed; returns whether it held. */
async function pollUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/** Token-endpoint requests for refresh grants the IdP answered, well or not. */
function refreshRequests(idp: SandboxIdp): number {
  const counts = idp.counts();
  return counts.refresh_token + counts.refreshErrors;
}

/**
 * Asserts that `run` is blocked: it is still running `forMs` after it
 * started (several times as long as a plain `token` run takes here) and
 * has sent nothing to the IdP meanwhile.
 */
async function assertBlocked(
  run: Running,
  idp: SandboxIdp,
  forMs: number,
  what: string,
): Promise<void> {
  const quit = await pollUntil(() => run.exited() || refreshRequests(idp) > 0, forMs);
  if (quit && run.exited()) {
    const result = await run.result(1_000);
    assert.fail(
      `${what}: clawauth exited ${result.code} instead of waiting: ${result.stderr.trim()}`,
    );
  }
  assert.equal(refreshRequests(idp), 0, `${what}: clawauth asked the IdP for a refresh`);
}

/** How long a plain `clawauth token` takes here, for telling a blocked run from a slow one. */
async function tokenRunMs(state: OpenclawState): Promise<number> {
  const started = Date.now();
  await clawauth(state, ["token", "--provider", "openai-codex"]);
  return Date.now() - started;
}

/** One profile as `openclaw models status --json` lists it (`auth.oauth`). */
interface ListedProfile {
  profileId: string;
  provider: string;
  type: string;
  status?: string;
  expiresAt?: number;
}

/** What `openclaw models status --json` said, and everything it printed. */
interface OpenclawView {
  profiles: Map<string, ListedProfile>;
  /** Profile ids listed under each provider. */
  byProvider: Map<string, string[]>;
  printed: string;
}

/** Asserts an OpenClaw run succeeded without AUTH_PROFILE_MIGRATION_REQUIRED. */
function assertOpenclawOk(result: OpenclawResult, what: string): void {
  const printed = `${result.stdout}\n${result.stderr}`;
  assert.doesNotMatch(printed, /AUTH_PROFILE_MIGRATION_REQUIRED/, `${what}:\n${printed}`);
  assert.equal(result.code, 0, `${what} exited ${result.code}:\n${printed}`);
}

/** `openclaw models status --json` (≈ 1.5 s). */
async function openclawStatus(state: OpenclawState): Promise<OpenclawView> {
  const result = await state.openclaw(["models", "status", "--json"]);
  assertOpenclawOk(result, "openclaw models status --json");
  const oauth = JSON.parse(result.stdout).auth.oauth as {
    profiles: ListedProfile[];
    providers: { provider: string; profiles: ListedProfile[] }[];
  };
  return {
    profiles: new Map(oauth.profiles.map((p) => [p.profileId, p])),
    byProvider: new Map(
      oauth.providers.map((p) => [p.provider, p.profiles.map((x) => x.profileId)]),
    ),
    printed: `${result.stdout}\n${result.stderr}`,
  };
}

/** A profile as `clawauth status --json` / `list --json` print it. */
interface ClawauthProfile {
  id: string;
  provider: string;
  type: string;
  state: string;
  expires: number | null;
}

async function clawauthProfiles(
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

/** A setup-token long enough for OpenClaw's own check (80+ characters). */
function setupToken(): string {
  return fakeSecret("sk-ant-oat01-") + fakeSecret("");
}

// ---------------------------------------------------------------------------
// OpenClaw's refresh protocol, written by hand as OpenClaw would
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
async function fenced(entry: Entry, id: string, failed = false): Promise<Entry> {
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
function takeRefreshLock(
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
function sleeper(): Deno.ChildProcess {
  return new Deno.Command("sleep", {
    args: ["300"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** A logged-in Codex profile (`openai:me`) on a fresh copy, with the IdP behind it. */
async function codexLogin(state: OpenclawState): Promise<SandboxIdp> {
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

/** Moves the login's expiry into the past, as time would. */
function expire(state: OpenclawState): void {
  editStoredProfile(state, CODEX_ID, (entry) => ({ ...entry, expires: Date.now() - 60_000 }));
}

function assertNoFencePrinted(result: RunResult, what: string): void {
  assert.ok(
    !`${result.stdout}\n${result.stderr}`.includes(FENCE_PREFIX),
    `${what} printed a fence value: ${result.stdout}${result.stderr}`,
  );
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

Deno.test({
  name:
    `openclaw store: tokens clawauth pastes are listed by OpenClaw with their types, no doctor, no AUTH_PROFILE_MIGRATION_REQUIRED, no secret printed${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const token = setupToken();
    const key = fakeSecret("sk-proj-");
    await clawauth(
      state,
      ["paste-token", "--provider", "anthropic", "--profile", "work", "--expires-in", "365d"],
      { stdin: token },
    );
    await clawauth(
      state,
      ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", "ci"],
      { stdin: key },
    );
    assert.deepEqual(retiredFilesIn(state), []);
    const stored = storedProfiles(state);
    assert.deepEqual(Object.keys(stored).sort(), ["anthropic:work", "openai:ci"]);
    const expires = stored["anthropic:work"].expires;
    assert.ok(typeof expires === "number" && expires > Date.now() + 364 * 86_400_000);

    const view = await openclawStatus(state);
    const work = view.profiles.get("anthropic:work");
    const ci = view.profiles.get("openai:ci");
    assert.equal(work?.provider, "anthropic", JSON.stringify([...view.profiles.values()]));
    assert.equal(work?.type, "token");
    assert.equal(work?.expiresAt, expires, "OpenClaw reads the expiry clawauth stored");
    assert.equal(ci?.provider, "openai");
    assert.equal(ci?.type, "api_key");
    assert.deepEqual(view.byProvider.get("anthropic"), ["anthropic:work"]);
    assert.deepEqual(view.byProvider.get("openai"), ["openai:ci"]);
    assert.ok(!leaks(view.printed, token, "sk-ant-oat01-"), "OpenClaw printed the setup-token");
    assert.ok(!leaks(view.printed, key, "sk-proj-"), "OpenClaw printed the API key");
    assert.deepEqual(retiredFilesIn(state), []);
  },
});

Deno.test({
  name:
    `openclaw store: a token pasted with \`openclaw models auth paste-token\` is listed and served by clawauth${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const token = setupToken();
    const pasted = await state.openclaw(
      [
        "models",
        "auth",
        "paste-token",
        "--provider",
        "anthropic",
        "--profile-id",
        "anthropic:oc",
        "--expires-in",
        "30d",
      ],
      { stdin: `${token}\n` },
    );
    assertOpenclawOk(pasted, "openclaw models auth paste-token");
    const expires = storedProfiles(state)["anthropic:oc"]?.expires;
    assert.ok(typeof expires === "number", "OpenClaw stored the token with its expiry");

    for (const command of ["list", "status"] as const) {
      const { profiles, printed } = await clawauthProfiles(state, command);
      assert.deepEqual([...profiles.keys()], ["anthropic:oc"], `clawauth ${command} --json`);
      const oc = profiles.get("anthropic:oc");
      assert.equal(oc?.provider, "anthropic");
      assert.equal(oc?.type, "token");
      assert.equal(oc?.state, "ok");
      assert.equal(oc?.expires, expires);
      assert.ok(!leaks(printed, token, "sk-ant-oat01-"), `clawauth ${command} printed the token`);
    }
    const byProfile = await clawauth(state, ["token", "--profile", "anthropic:oc"]);
    assert.equal(byProfile.stdout, `${token}\n`);
    assert.equal(byProfile.stderr, "");
    const byProvider = await clawauth(state, ["token", "--provider", "anthropic"]);
    assert.equal(byProvider.stdout, `${token}\n`);
    assert.deepEqual(retiredFilesIn(state), []);
  },
});

Deno.test({
  name:
    `openclaw store: no clawauth command creates a retired JSON file, a database or a table${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    // Something for `import --dry-run` to find (and not import).
    await Deno.mkdir(`${state.home}/.claude`, { recursive: true });
    await Deno.writeTextFile(
      `${state.home}/.claude/.credentials.json`,
      JSON.stringify({
        claudeAiOauth: {
          accessToken: fakeSecret("sk-ant-oat01-"),
          refreshToken: fakeSecret("sk-ant-ort01-"),
          expiresAt: Date.now() + 3_600_000,
        },
      }),
    );
    const databases = sqliteFiles(state);
    assert.deepEqual(databases, ["state/openclaw.sqlite"]);
    const schema = schemaOf(state.stateDb);
    assert.equal(schema.userVersion, 18);

    const steps: { args: string[]; stdin?: string; code?: number }[] = [
      {
        args: [
          "paste-token",
          "--provider",
          "anthropic",
          "--profile",
          "work",
          "--expires-in",
          "30d",
        ],
        stdin: setupToken(),
      },
      { args: ["paste-token", "--provider", "anthropic", "--profile", "b"], stdin: setupToken() },
      {
        args: ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", "ci"],
        stdin: fakeSecret("sk-proj-"),
      },
      { args: ["token", "--provider", "anthropic"] },
      { args: ["token", "--profile", "openai:ci"] },
      { args: ["exec", "--provider", "anthropic", "--", "true"] },
      { args: ["status"] },
      { args: ["status", "--json"] },
      { args: ["list", "--json"] },
      { args: ["report", "anthropic:work", "--reason", "rate_limit"] },
      { args: ["report", "anthropic:work", "--ok"] },
      { args: ["order", "set", "--provider", "anthropic", "anthropic:b", "anthropic:work"] },
      { args: ["order", "get", "--json"] },
      { args: ["order", "clear", "--provider", "anthropic"] },
      { args: ["resolve", "anthropic", "--json"] },
      { args: ["remove", "anthropic:b"] },
      { args: ["doctor"] },
      { args: ["import", "--dry-run"] },
      { args: ["login", "--provider", "openai-codex", "--start", "--json"] },
    ];
    for (const step of steps) {
      const what = `clawauth ${step.args.join(" ")}`;
      const rows = step.args[0] === "import" ? sharedAuthRows(state) : undefined;
      const result = await state.run(step.args, { stdin: step.stdin });
      assert.equal(result.code, step.code ?? 0, `${what} exited ${result.code}: ${result.stderr}`);
      assert.deepEqual(retiredFilesIn(state), [], `after ${what}`);
      assert.deepEqual(sqliteFiles(state), databases, `after ${what}: a new database`);
      if (rows) assert.deepEqual(sharedAuthRows(state), rows, `${what} wrote to the store`);
    }
    assert.deepEqual(schemaOf(state.stateDb), schema, "the state DB's schema is unchanged");

    // OpenClaw, with no doctor run, sees what is left and refuses nothing.
    const view = await openclawStatus(state);
    assert.deepEqual([...view.profiles.keys()].sort(), ["anthropic:work", "openai:ci"]);
    assert.deepEqual(retiredFilesIn(state), []);
  },
});

Deno.test({
  name:
    `openclaw store: a Codex login is OpenClaw's openai OAuth profile, served for openai-codex and never for openai${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const idp = await codexLogin(state);
    try {
      const stored = storedProfiles(state);
      assert.deepEqual(Object.keys(stored), [CODEX_ID], "nothing stored as openai-codex:…");
      const login = stored[CODEX_ID];
      assert.equal(login.provider, "openai");
      assert.equal(login.type, "oauth");
      assert.equal(login.accountId, "acct-sandbox-1");
      const access = String(login.access);
      const refresh = String(login.refresh);
      assert.ok(typeof login.expires === "number" && login.expires > Date.now());
      assert.deepEqual(retiredFilesIn(state), []);

      const { profiles } = await clawauthProfiles(state, "status");
      assert.equal(profiles.get(CODEX_ID)?.provider, "openai");
      assert.equal(profiles.get(CODEX_ID)?.type, "oauth");
      assert.equal(profiles.get(CODEX_ID)?.state, "ok");

      const codex = await clawauth(state, ["token", "--provider", "openai-codex"]);
      assert.equal(codex.stdout, `${access}\n`);
      const apiOnly = await state.run(["token", "--provider", "openai"]);
      assert.equal(apiOnly.code, 77, `token --provider openai: ${apiOnly.stderr}`);
      assert.equal(apiOnly.stdout, "", "no ChatGPT token for an OpenAI API-key request");
      assert.ok(!apiOnly.stderr.includes(access));
      assert.match(apiOnly.stderr, /clawauth paste-token --provider openai/);

      const key = fakeSecret("sk-proj-");
      await clawauth(
        state,
        ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", "ci"],
        { stdin: key },
      );
      const [viaOpenai, viaCodex, view] = await Promise.all([
        clawauth(state, ["token", "--provider", "openai"]),
        clawauth(state, ["token", "--provider", "openai-codex"]),
        openclawStatus(state),
      ]);
      assert.equal(viaOpenai.stdout, `${key}\n`, "openai gets the API key");
      assert.equal(viaCodex.stdout, `${access}\n`, "openai-codex still gets the ChatGPT token");
      assert.equal(idp.counts().refresh_token, 0);

      const listed = view.profiles.get(CODEX_ID);
      assert.equal(listed?.provider, "openai", JSON.stringify([...view.profiles.values()]));
      assert.equal(listed?.type, "oauth");
      assert.equal(listed?.expiresAt, login.expires);
      assert.deepEqual(view.byProvider.get("openai")?.sort(), ["openai:ci", CODEX_ID]);
      assert.ok(!view.byProvider.has("openai-codex"), "OpenClaw retired openai-codex");
      for (const [secret, prefix] of [[access, ""], [refresh, ""], [key, "sk-proj-"]]) {
        assert.ok(!leaks(view.printed, secret, prefix), "OpenClaw printed a secret");
      }
      assert.deepEqual(retiredFilesIn(state), []);
    } finally {
      await idp.close();
    }
  },
});

Deno.test({
  name:
    `openclaw store: 16 concurrent token calls on an expired Codex login refresh it once, and OpenClaw sees the new expiry${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const idp = await codexLogin(state);
    try {
      const old = storedProfiles(state)[CODEX_ID];
      expire(state);
      const results = await Promise.all(
        Array.from({ length: 16 }, () => state.run(["token", "--provider", "openai-codex"])),
      );
      assert.deepEqual(
        results.map((r) => r.code),
        Array(16).fill(0),
        results.map((r) => r.stderr).join(""),
      );
      const tokens = new Set(results.map((r) => r.stdout));
      assert.equal(tokens.size, 1, "every caller got the same token");
      assert.equal(idp.counts().refresh_token, 1, "exactly one refresh");
      assert.equal(idp.counts().refreshErrors, 0);

      const now = storedProfiles(state)[CODEX_ID];
      assert.notEqual(now.access, old.access);
      assert.notEqual(now.refresh, old.refresh, "the rotated refresh token is stored");
      assert.equal(results[0].stdout, `${now.access}\n`);
      assert.equal(now.provider, "openai");
      assert.equal(now.type, "oauth");
      assert.equal(now.accountId, old.accountId, "the metadata is kept");
      const expires = now.expires as number;
      assert.ok(expires > Date.now() + 50 * 60_000, `new expiry ${expires}`);
      assert.deepEqual(Object.keys(storedProfiles(state)), [CODEX_ID]);

      const listed = (await openclawStatus(state)).profiles.get(CODEX_ID);
      assert.equal(listed?.expiresAt, expires, "OpenClaw reads the refreshed expiry");
      assert.notEqual(listed?.status, "expired");
      assert.deepEqual(retiredFilesIn(state), []);
    } finally {
      await idp.close();
    }
  },
});

Deno.test({
  name:
    `openclaw store: OpenClaw's refresh fences are waited for (settled, failed, never settled) and never handed out${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const idp = await codexLogin(state);
    try {
      const plain = await tokenRunMs(state);
      const blockedFor = Math.max(1_000, 4 * plain);
      const original = storedProfiles(state)[CODEX_ID];

      // A pending fence: clawauth waits, then takes what OpenClaw settles.
      const pending = await fenced(original, CODEX_ID);
      editStoredProfile(state, CODEX_ID, () => pending);
      await using waiting = startClawauth(state, ["token", "--provider", "openai-codex"], {
        CLAWAUTH_LOCK_TIMEOUT: "30",
      });
      await assertBlocked(waiting, idp, blockedFor, "a pending fence");
      const settled = fakeSecret("settled-at-");
      editStoredProfile(state, CODEX_ID, (entry) => {
        assert.deepEqual(entry, pending, "clawauth left OpenClaw's fence alone while it waited");
        return {
          ...original,
          access: settled,
          refresh: fakeSecret("settled-rt-"),
          expires: Date.now() + 3_600_000,
        };
      });
      const got = await waiting.result(15_000);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout, `${settled}\n`, "the settled token, as OpenClaw wrote it");
      assertNoFencePrinted(got, "token on a pending fence");
      assert.equal(refreshRequests(idp), 0, "OpenClaw refreshed it: clawauth sent nothing");

      // A pending fence that never settles: exit 75 within the lock timeout.
      const stuck = await fenced(original, CODEX_ID);
      editStoredProfile(state, CODEX_ID, () => stuck);
      const started = Date.now();
      const timedOut = await startClawauth(state, ["token", "--provider", "openai-codex"], {
        CLAWAUTH_LOCK_TIMEOUT: "2",
      }).result(15_000);
      const took = Date.now() - started;
      assert.equal(timedOut.code, 75, `a fence that never settles: ${timedOut.stderr}`);
      assert.ok(took >= 1_900 && took < 10_000, `exit 75 after ${took} ms, not about 2 s`);
      assert.equal(timedOut.stdout, "");
      assertNoFencePrinted(timedOut, "token on a fence that never settles");
      assert.deepEqual(storedProfiles(state)[CODEX_ID], stuck, "the fence is OpenClaw's to settle");

      // A failed fence: the login is spent; exit 77 naming the login command.
      const failed = await fenced(original, CODEX_ID, true);
      editStoredProfile(state, CODEX_ID, () => failed);
      const spent = await startClawauth(state, ["token", "--provider", "openai-codex"], {
        CLAWAUTH_LOCK_TIMEOUT: "30",
      }).result(15_000);
      assert.equal(spent.code, 77, `a failed fence: ${spent.stderr}`);
      assert.equal(spent.stdout, "");
      assert.match(spent.stderr, /clawauth login --provider openai-codex/);
      assertNoFencePrinted(spent, "token on a failed fence");

      assert.equal(refreshRequests(idp), 0, "no fence value was ever sent as a refresh token");
      assert.deepEqual(retiredFilesIn(state), []);
    } finally {
      await idp.close();
    }
  },
});

Deno.test({
  name:
    `openclaw store: status shows a login whose OpenClaw refresh failed (a failed fence) as needs_login, and --check fails${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const idp = await codexLogin(state);
    try {
      const original = storedProfiles(state)[CODEX_ID];
      const failed = await fenced(original, CODEX_ID, true);
      editStoredProfile(state, CODEX_ID, () => failed);
      const status = await clawauth(state, ["status", "--json"]);
      const list = await clawauth(state, ["list", "--json"]);
      const check = await state.run(["status", "--check"]);
      const runs = [["status --json", status], ["list --json", list], ["status --check", check]];
      for (const [what, result] of runs as [string, RunResult][]) {
        assertNoFencePrinted(result, `${what} on a failed fence`);
      }
      const listed = (JSON.parse(status.stdout) as { profiles: ClawauthProfile[] }).profiles;
      assert.equal(
        listed.find((p) => p.id === CODEX_ID)?.state,
        "needs_login",
        "status agrees with token (exit 77): a failed fence is needs_login",
      );
      assert.equal(check.code, 1, `status --check on a failed fence: ${check.stdout}`);
      assert.equal(refreshRequests(idp), 0);
    } finally {
      await idp.close();
    }
  },
});

Deno.test({
  name:
    `openclaw store: a live holder of OpenClaw's refresh lock makes clawauth wait, then refresh once; held too long, exit 75${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    await using holder = sleeper();
    const idp = await codexLogin(state);
    try {
      const plain = await tokenRunMs(state);
      const blockedFor = Math.max(1_000, 4 * plain);
      const old = storedProfiles(state)[CODEX_ID];
      expire(state);

      const lock = takeRefreshLock(state, "openai", CODEX_ID, holder.pid);
      await using waiting = startClawauth(state, ["token", "--provider", "openai-codex"], {
        CLAWAUTH_LOCK_TIMEOUT: "30",
      });
      await assertBlocked(waiting, idp, blockedFor, "OpenClaw's refresh lock held");
      assert.equal(Deno.readTextFileSync(lock.path), lock.text, "the holder's lock is untouched");
      Deno.removeSync(lock.path);
      const got = await waiting.result(15_000);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(idp.counts().refresh_token, 1, "one refresh once the lock was released");
      const now = storedProfiles(state)[CODEX_ID];
      assert.notEqual(now.access, old.access);
      assert.equal(got.stdout, `${now.access}\n`);
      assert.ok(!exists(lock.path), "clawauth released the lock it took");

      // Expired again, and the lock is never released.
      expire(state);
      const again = takeRefreshLock(state, "openai", CODEX_ID, holder.pid);
      const started = Date.now();
      const timedOut = await startClawauth(state, ["token", "--provider", "openai-codex"], {
        CLAWAUTH_LOCK_TIMEOUT: "2",
      }).result(15_000);
      const took = Date.now() - started;
      assert.equal(timedOut.code, 75, `the lock never released: ${timedOut.stderr}`);
      assert.ok(took >= 1_900 && took < 10_000, `exit 75 after ${took} ms, not about 2 s`);
      assert.equal(timedOut.stdout, "");
      assert.equal(idp.counts().refresh_token, 1, "no refresh while OpenClaw holds the lock");
      assert.equal(idp.counts().refreshErrors, 0);
      assert.equal(Deno.readTextFileSync(again.path), again.text, "a live holder's lock stays");
      assert.equal(storedProfiles(state)[CODEX_ID].refresh, now.refresh);
    } finally {
      await idp.close();
    }
  },
});

Deno.test({
  name:
    `openclaw store: a refresh lock whose holder died is stale: clawauth refreshes once at once${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const idp = await codexLogin(state);
    try {
      const dead = sleeper();
      const lock = takeRefreshLock(state, "openai", CODEX_ID, dead.pid);
      dead.kill("SIGKILL");
      await dead.status;
      expire(state);
      const got = await startClawauth(state, ["token", "--provider", "openai-codex"], {
        CLAWAUTH_LOCK_TIMEOUT: "5",
      }).result(15_000);
      assert.equal(got.code, 0, `a dead holder's lock: ${got.stderr}`);
      assert.equal(idp.counts().refresh_token, 1);
      assert.equal(got.stdout, `${storedProfiles(state)[CODEX_ID].access}\n`);
      assert.ok(
        !exists(lock.path) || Deno.readTextFileSync(lock.path) !== lock.text,
        "the stale lock was taken over",
      );
    } finally {
      await idp.close();
    }
  },
});

Deno.test({
  name:
    `openclaw store: the json backend, when chosen, keeps its files and leaves OpenClaw's store alone${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const rows = sharedAuthRows(state);
    const token = setupToken();
    await clawauth(state, ["paste-token", "--store", "json", "--provider", "anthropic"], {
      stdin: token,
    });
    const store = state.store() as { profiles: Profiles };
    assert.equal(store.profiles["anthropic:default"]?.token, token, "auth-profiles.json written");
    assert.deepEqual(sharedAuthRows(state), rows, "nothing written to OpenClaw's store");

    const detected = await state.run(["token", "--provider", "anthropic"]);
    assert.equal(detected.code, 77, "detection picks the SQLite store, which has no profile");
    const viaEnv = await clawauth(state, ["token", "--provider", "anthropic"], {
      env: { CLAWAUTH_STORE: "json" },
    });
    assert.equal(viaEnv.stdout, `${token}\n`);

    // clawauth.json's "store": a Codex login keeps its JSON-store provider id.
    const idp = await idpFor(state);
    try {
      const config = JSON.parse(Deno.readTextFileSync(`${state.dir}/clawauth.json`));
      Deno.writeTextFileSync(
        `${state.dir}/clawauth.json`,
        JSON.stringify({ ...config, store: "json" }),
      );
      const id = await loginVia(idp, state, ["--profile", "me"]);
      assert.equal(id, "openai-codex:me");
      const profiles = (state.store() as { profiles: Profiles }).profiles;
      assert.equal(profiles[id]?.provider, "openai-codex");
      assert.equal(profiles[id]?.type, "oauth");
      assert.deepEqual(sharedAuthRows(state), rows, "still nothing in OpenClaw's store");
      const sqlite = await clawauth(state, ["list", "--json", "--store", "openclaw"]);
      assert.deepEqual(JSON.parse(sqlite.stdout).profiles, []);
    } finally {
      await idp.close();
    }
  },
});
