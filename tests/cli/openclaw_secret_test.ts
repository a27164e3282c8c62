/**
 * `clawauth openclaw-secret`, OpenClaw's exec SecretRef provider (protocol
 * v1, docs/helpers.md), black-box through the CLI: ids on stdin, values and per-id
 * errors on stdout, exit 65 for a request that is not protocol v1.
 *
 * The last tests run the real OpenClaw (tests/openclaw_env.ts; ignored with
 * the reason when it is not installed): `openclaw secrets apply` writes a
 * `token` profile whose `tokenRef` names the exec provider `clawauth`, and
 * `openclaw secrets audit --allow-exec --json` resolves it by running the
 * CLI, with OpenClaw's empty environment, through a wrapper script. No
 * gateway is needed. About 10 s each (OpenClaw 2026.9.6).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DENO_DIR } from "../../scripts/cli_runner.ts";
import {
  CLI_COMMAND,
  fakeSecret,
  leaks,
  type RunResult,
  setOrder,
  type TempState,
  tempState,
  writeLoopbackConfig,
} from "../helpers.ts";
import {
  type OpenclawResult,
  type OpenclawState,
  openclawState,
  openclawTests,
} from "../openclaw_env.ts";
import { oauthProfile, storeOf, tokenProfile } from "../builders.ts";

const ANTHROPIC_PREFIX = "sk-ant-oat01-";
const OPENAI_PREFIX = "sk-proj-";

/** One per-id error of an answer. */
interface IdError {
  code: string;
  message: string;
}

/** A protocol v1 answer. */
interface Answer {
  protocolVersion: number;
  values: Record<string, string>;
  errors: Record<string, IdError>;
}

/** A protocol v1 request for `ids`. */
function request(ids: unknown[]): string {
  return JSON.stringify({ protocolVersion: 1, provider: "clawauth", ids });
}

/** Runs `openclaw-secret` on `ids`; asserts exit 0 and exactly one JSON line on stdout. */
async function ask(
  state: TempState,
  ids: string[],
  args: string[] = [],
): Promise<{ answer: Answer; result: RunResult }> {
  const result = await state.run(["openclaw-secret", ...args], { stdin: request(ids) });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.endsWith("\n") && !result.stdout.slice(0, -1).includes("\n"));
  const answer: Answer = JSON.parse(result.stdout);
  assert.equal(answer.protocolVersion, 1);
  // Every id is answered exactly once, as a value or as an error.
  assert.deepEqual(
    [...Object.keys(answer.values), ...Object.keys(answer.errors)].sort(),
    [...new Set(ids)].sort(),
  );
  for (const error of Object.values(answer.errors)) {
    assert.equal(typeof error.code, "string");
    assert.match(error.message, /^[^\n]+$/);
  }
  return { answer, result };
}

/** Stores a secret with `clawauth paste-token`. */
async function paste(state: TempState, args: string[], secret: string): Promise<void> {
  const result = await state.run(["paste-token", ...args], { stdin: `${secret}\n` });
  assert.equal(result.code, 0, result.stderr);
}

/** A state with `anthropic:work` (setup-token) and `openai:ci` (API key). */
async function twoProfiles(): Promise<{ state: TempState; token: string; key: string }> {
  const state = await tempState();
  const token = fakeSecret(ANTHROPIC_PREFIX);
  const key = fakeSecret(OPENAI_PREFIX);
  await paste(state, ["--provider", "anthropic", "--profile", "work"], token);
  await paste(state, ["--provider", "openai", "--profile", "ci", "--type", "api-key"], key);
  return { state, token, key };
}

/** Asserts that nothing the run printed outside `values` holds any of `secrets`. */
function assertNoLeak(
  answer: Answer,
  stderr: string,
  secrets: { secret: string; prefix: string }[],
): void {
  const outside = `${JSON.stringify(answer.errors)}\n${stderr}`;
  for (const { secret, prefix } of secrets) {
    assert.ok(!leaks(outside, secret, prefix), `a secret leaked into: ${outside}`);
  }
}

Deno.test("openclaw-secret resolves a profile id and a provider id like clawauth token", async () => {
  const { state, token, key } = await twoProfiles();
  await using _ = state;
  const { answer, result } = await ask(state, ["anthropic:work", "openai"]);
  assert.deepEqual(answer.values, { "anthropic:work": token, openai: key });
  assert.deepEqual(answer.errors, {});
  assert.equal(result.stderr, "");
});

Deno.test("openclaw-secret routes a provider id by the agent's order, as token --provider does", async () => {
  await using state = await tempState();
  const first = fakeSecret(ANTHROPIC_PREFIX);
  const second = fakeSecret(ANTHROPIC_PREFIX);
  await paste(state, ["--provider", "anthropic", "--profile", "a"], first);
  await paste(state, ["--provider", "anthropic", "--profile", "b"], second);
  const order = await setOrder(state, "anthropic", "anthropic:b", "anthropic:a");
  assert.equal(order.code, 0, order.stderr);
  const viaToken = await state.run(["token", "--provider", "anthropic"]);
  assert.equal(viaToken.stdout, `${second}\n`);
  const { answer } = await ask(state, ["anthropic"]);
  assert.deepEqual(answer.values, { anthropic: second });
});

Deno.test("openclaw-secret answers an unknown profile or provider as NOT_FOUND, exit 0", async () => {
  const { state, token, key } = await twoProfiles();
  await using _ = state;
  const { answer, result } = await ask(state, ["anthropic:home", "mistral"]);
  assert.deepEqual(answer.values, {});
  assert.equal(answer.errors["anthropic:home"].code, "NOT_FOUND");
  assert.equal(answer.errors.mistral.code, "NOT_FOUND");
  assertNoLeak(answer, result.stderr, [
    { secret: token, prefix: ANTHROPIC_PREFIX },
    { secret: key, prefix: OPENAI_PREFIX },
  ]);
});

Deno.test("openclaw-secret answers good ids and keeps bad ones under errors, each with a code", async () => {
  const { state, token, key } = await twoProfiles();
  await using _ = state;
  const ids = [
    "anthropic:work",
    "openai:nobody",
    "openai:ci",
    "Bad Provider",
    "../etc/passwd",
    "__proto__",
    "anthropic:work",
    "anthropic:",
  ];
  const { answer, result } = await ask(state, ids);
  assert.deepEqual(answer.values, { "anthropic:work": token, "openai:ci": key });
  assert.equal(answer.errors["openai:nobody"].code, "NOT_FOUND");
  for (const id of ["Bad Provider", "../etc/passwd", "__proto__", "anthropic:"]) {
    assert.equal(answer.errors[id]?.code, "INVALID_REQUEST", id);
  }
  assert.ok(Object.hasOwn(answer.errors, "__proto__"));
  assertNoLeak(answer, result.stderr, [
    { secret: token, prefix: ANTHROPIC_PREFIX },
    { secret: key, prefix: OPENAI_PREFIX },
  ]);
});

Deno.test("openclaw-secret answers an expired token as NEEDS_LOGIN without the token", async () => {
  await using state = await tempState();
  const expired = fakeSecret(ANTHROPIC_PREFIX);
  const fresh = fakeSecret(ANTHROPIC_PREFIX);
  state.writeStore(storeOf({
    "anthropic:old": tokenProfile(expired, { expires: 1_000 }),
    "anthropic:new": tokenProfile(fresh),
  }));
  const { answer, result } = await ask(state, ["anthropic:old", "anthropic"]);
  assert.equal(answer.errors["anthropic:old"].code, "NEEDS_LOGIN");
  assert.match(answer.errors["anthropic:old"].message, /expired/);
  // The provider id routes past the expired profile, as clawauth token does.
  assert.deepEqual(answer.values, { anthropic: fresh });
  assertNoLeak(answer, result.stderr, [{ secret: expired, prefix: ANTHROPIC_PREFIX }]);
});

Deno.test("openclaw-secret refreshes OAuth within --min-valid (default 5m) and reports a failed refresh as UNAVAILABLE", async () => {
  await using state = await tempState();
  writeLoopbackConfig(state); // the token endpoint refuses connections
  const now = Date.now();
  const soon = { access: fakeSecret("eyJsoon."), refresh: fakeSecret("rt_") };
  const gone = { access: fakeSecret("eyJgone."), refresh: fakeSecret("rt_") };
  state.writeStore(storeOf({
    "openai-codex:soon": oauthProfile({ ...soon, expires: now + 10 * 60_000 }),
    "openai-codex:gone": oauthProfile({ ...gone, expires: now - 60_000 }),
  }));
  const secrets = [
    { secret: soon.refresh, prefix: "rt_" },
    { secret: gone.access, prefix: "eyJgone." },
    { secret: gone.refresh, prefix: "rt_" },
  ];
  // Valid for 10 min: no refresh under the default 5 min.
  const calm = await ask(state, ["openai-codex:soon"]);
  assert.deepEqual(calm.answer.values, { "openai-codex:soon": soon.access });
  assert.doesNotMatch(calm.result.stderr, /current token/);
  // Under --min-valid 1h a refresh is due; it fails, and the still valid token is used with a warning.
  const eager = await ask(state, ["openai-codex:soon"], ["--min-valid", "1h"]);
  assert.deepEqual(eager.answer.values, { "openai-codex:soon": soon.access });
  assert.match(eager.result.stderr, /Using the current token/);
  // Expired and not refreshable now: a per-id error, not a crash.
  const { answer, result } = await ask(state, ["openai-codex:gone", "openai-codex:soon"]);
  assert.equal(answer.errors["openai-codex:gone"].code, "UNAVAILABLE");
  assert.deepEqual(answer.values, { "openai-codex:soon": soon.access });
  assertNoLeak(answer, result.stderr, secrets);
  assertNoLeak(eager.answer, eager.result.stderr, secrets);
});

Deno.test("openclaw-secret answers every id with INVALID_DATA when the store does not parse", async () => {
  await using state = await tempState();
  const secret = fakeSecret(ANTHROPIC_PREFIX);
  state.writeStore(`{"version":1,"profiles":{"anthropic:work":{"token":"${secret}"`);
  const { answer, result } = await ask(state, ["anthropic:work", "openai"]);
  assert.deepEqual(answer.values, {});
  assert.equal(answer.errors["anthropic:work"].code, "INVALID_DATA");
  assert.equal(answer.errors.openai.code, "INVALID_DATA");
  assertNoLeak(answer, result.stderr, [{ secret, prefix: ANTHROPIC_PREFIX }]);
});

Deno.test("openclaw-secret refuses a request that is not protocol v1 with exit 65 and one sentence", async () => {
  const { state, token, key } = await twoProfiles();
  await using _ = state;
  const tooMany = Array.from({ length: 513 }, (_, i) => `anthropic:p${i}`);
  const cases: [string, string | Uint8Array][] = [
    ["empty", ""],
    ["not JSON", `{"protocolVersion":1,"ids":["${token}"`],
    ["an array", "[1]"],
    ["no protocolVersion", '{"ids":["anthropic:work"]}'],
    ["protocolVersion 2", '{"protocolVersion":2,"ids":["anthropic:work"]}'],
    ['protocolVersion "1"', '{"protocolVersion":"1","ids":["anthropic:work"]}'],
    ["no ids", '{"protocolVersion":1}'],
    ["ids a string", '{"protocolVersion":1,"ids":"anthropic:work"}'],
    ["a number among ids", '{"protocolVersion":1,"ids":["anthropic:work",7]}'],
    ["provider not a string", '{"protocolVersion":1,"provider":3,"ids":[]}'],
    ["513 ids", request(tooMany)],
    ["over 1 MiB", request(["anthropic:work", "x".repeat(1024 * 1024)])],
    ["not UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
  ];
  for (const [what, stdin] of cases) {
    const result = await state.run(["openclaw-secret"], { stdin });
    assert.equal(result.code, 65, `${what}: ${result.stderr}`);
    assert.equal(result.stdout, "", what);
    assert.match(result.stderr, /^clawauth: The request on stdin [^\n]+\.\n/, what);
    assert.ok(!leaks(result.stderr, token, ANTHROPIC_PREFIX), what);
    assert.ok(!leaks(result.stderr, key, OPENAI_PREFIX), what);
  }
  // An empty list is well-formed, and so are 512 ids.
  assert.deepEqual((await ask(state, [])).answer, { protocolVersion: 1, values: {}, errors: {} });
  const most = await ask(state, tooMany.slice(0, 512));
  assert.equal(Object.keys(most.answer.errors).length, 512);
});

Deno.test("openclaw-secret needs an absolute state dir when OpenClaw's empty environment has no HOME", async () => {
  const { state, token } = await twoProfiles();
  await using _ = state;
  const bare = { HOME: "", OPENCLAW_STATE_DIR: "" };
  const none = await state.run(["openclaw-secret"], {
    stdin: request(["anthropic:work"]),
    env: bare,
  });
  assert.equal(none.code, 64);
  assert.equal(none.stdout, "");
  assert.match(none.stderr, /passEnv/);
  const relative = await state.run(["openclaw-secret", "--state-dir", "state"], {
    stdin: request(["anthropic:work"]),
    env: bare,
  });
  assert.equal(relative.code, 64);
  assert.match(relative.stderr, /relative/);
  const { answer } = await ask(state, ["anthropic:work"], ["--state-dir", state.dir]);
  assert.deepEqual(answer.values, { "anthropic:work": token });
  const badSpan = await state.run(["openclaw-secret", "--min-valid", "soon"], {
    stdin: request([]),
  });
  assert.equal(badSpan.code, 64);
});

Deno.test("openclaw-secret --help shows a config for OpenClaw's empty environment", async () => {
  await using state = await tempState();
  const help = await state.run(["openclaw-secret", "--help"]);
  assert.equal(help.code, 0);
  for (
    const needle of ['"source": "exec"', "--state-dir", "passEnv", "tokenRef", "secrets reload"]
  ) {
    assert.ok(help.stdout.includes(needle), needle);
  }
  const top = await state.run(["--help"]);
  assert.match(top.stdout, /openclaw-secret/);
});

// ---- the real OpenClaw ------------------------------------------------------

const { ignore, suffix: SUFFIX } = openclawTests;

/** Quotes a word for /bin/sh. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Writes an executable script that runs the CLI exactly as the tests run it
 * (scripts/cli_runner.ts CLI_COMMAND) and returns its real path: OpenClaw
 * wants an absolute command, no symlink, owned by the user, not group- or
 * world-writable. It sets only DENO_DIR, which the compiled binary would not
 * need; everything else comes from OpenClaw's (empty) environment.
 */
function writeWrapper(dir: string): string {
  const path = `${dir}/clawauth-openclaw-secret.sh`;
  Deno.writeTextFileSync(
    path,
    `#!/bin/sh\nDENO_DIR=${shellQuote(DENO_DIR)} NO_COLOR=1 exec ${
      CLI_COMMAND.map(shellQuote).join(" ")
    } "$@"\n`,
  );
  Deno.chmodSync(path, 0o700);
  return Deno.realPathSync(path);
}

/** Adds `secrets.providers.clawauth` to OpenClaw's config (plain JSON after doctor). */
function configureProvider(
  stateDir: string,
  provider: { command: string; args: string[]; passEnv: string[] },
): void {
  const path = `${stateDir}/openclaw.json`;
  const config = JSON.parse(Deno.readTextFileSync(path));
  config.secrets = {
    providers: {
      clawauth: { source: "exec", ...provider, jsonOnly: true, timeoutMs: 15_000 },
    },
  };
  Deno.writeTextFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * A `secrets apply` plan (the one `openclaw-secret --help` shows): a token
 * profile of main whose `tokenRef` is the exec provider `clawauth`, id `refId`.
 */
function tokenRefPlan(profileId: string, refId: string): string {
  return JSON.stringify({
    version: 1,
    protocolVersion: 1,
    targets: [{
      type: "auth-profiles.token.token",
      path: `profiles.${profileId}.token`,
      agentId: "main",
      authProfileProvider: "anthropic",
      ref: { source: "exec", provider: "clawauth", id: refId },
    }],
  });
}

/** `openclaw secrets audit --allow-exec --json`, parsed. */
interface Audit {
  resolution: { refsChecked: number; skippedExecRefs: number };
  summary: { unresolvedRefCount: number; plaintextCount: number };
  findings: { code?: string; path?: string }[];
}

/** OpenClaw's own log files (outside the state dir), which must not hold the secret either. */
function openclawLogs(): string {
  let text = "";
  try {
    for (const entry of Deno.readDirSync("/tmp/openclaw")) {
      if (entry.isFile) text += Deno.readTextFileSync(`/tmp/openclaw/${entry.name}`);
    }
  } catch { /* no logs */ }
  return text;
}

/** Runs OpenClaw; collects what it printed for the leak check. */
function recorder(printed: string[]) {
  return (result: OpenclawResult): OpenclawResult => {
    printed.push(result.stdout, result.stderr);
    return result;
  };
}

/** Applies `plan` with `openclaw secrets apply`, then audits; both must pass. Returns the audit. */
async function applyThenAudit(
  openclaw: OpenclawState,
  plan: string,
  record: (result: OpenclawResult) => OpenclawResult,
): Promise<Audit> {
  const planPath = `${openclaw.dir}/../plan.json`;
  Deno.writeTextFileSync(planPath, plan);
  const apply = record(
    await openclaw.openclaw(["secrets", "apply", "--from", planPath, "--allow-exec", "--json"]),
  );
  assert.equal(apply.code, 0, `secrets apply: ${apply.stdout}\n${apply.stderr}`);
  const audit = record(await openclaw.openclaw(["secrets", "audit", "--allow-exec", "--json"]));
  assert.equal(audit.code, 0, `secrets audit: ${audit.stdout}\n${audit.stderr}`);
  return JSON.parse(audit.stdout);
}

Deno.test({
  name:
    `openclaw-secret: \`openclaw secrets audit --allow-exec\` resolves a tokenRef through it, with --state-dir in args${SUFFIX}`,
  ignore,
  async fn() {
    await using openclaw = await openclawState();
    await using clawauth = await tempState();
    const token = fakeSecret(ANTHROPIC_PREFIX);
    await paste(clawauth, ["--provider", "anthropic", "--profile", "work"], token);
    configureProvider(openclaw.dir, {
      command: writeWrapper(`${clawauth.dir}/..`),
      args: ["openclaw-secret", "--state-dir", clawauth.dir],
      passEnv: [],
    });
    const printed: string[] = [];
    const record = recorder(printed);
    const report = await applyThenAudit(
      openclaw,
      tokenRefPlan("anthropic:work", "anthropic:work"),
      record,
    );
    assert.equal(report.resolution.refsChecked, 1);
    assert.equal(report.resolution.skippedExecRefs, 0);
    assert.equal(report.summary.unresolvedRefCount, 0);
    assert.equal(report.summary.plaintextCount, 0);

    const status = record(await openclaw.openclaw(["models", "status", "--json"]));
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /anthropic:work=token:ref\(exec:anthropic:work\)/);

    // The control: without the profile in clawauth the same audit finds the ref unresolved,
    // so the clean audit above really asked clawauth.
    const removed = await clawauth.run(["remove", "anthropic:work"]);
    assert.equal(removed.code, 0, removed.stderr);
    const after = record(await openclaw.openclaw(["secrets", "audit", "--allow-exec", "--json"]));
    assert.equal(after.code, 2, `secrets audit: ${after.stdout}\n${after.stderr}`);
    const unresolved: Audit = JSON.parse(after.stdout);
    assert.equal(unresolved.resolution.refsChecked, 1);
    assert.equal(unresolved.summary.unresolvedRefCount, 1);

    const everything = `${printed.join("\n")}\n${openclawLogs()}`;
    assert.ok(!leaks(everything, token, ANTHROPIC_PREFIX), "OpenClaw printed the secret");
  },
});

Deno.test({
  name:
    `openclaw-secret: \`openclaw secrets audit --allow-exec\` resolves a tokenRef from OpenClaw's own store, state dir via passEnv${SUFFIX}`,
  ignore,
  async fn() {
    await using openclaw = await openclawState();
    const token = fakeSecret(ANTHROPIC_PREFIX);
    // clawauth writes into OpenClaw's SQLite store (the openclaw backend, detected).
    await paste(openclaw, ["--provider", "anthropic", "--profile", "work"], token);
    configureProvider(openclaw.dir, {
      command: writeWrapper(`${openclaw.dir}/..`),
      args: ["openclaw-secret"],
      passEnv: ["OPENCLAW_STATE_DIR"],
    });
    const printed: string[] = [];
    const record = recorder(printed);
    const report = await applyThenAudit(
      openclaw,
      tokenRefPlan("anthropic:viaclaw", "anthropic:work"),
      record,
    );
    assert.equal(report.resolution.refsChecked, 1);
    assert.equal(report.summary.unresolvedRefCount, 0);
    const everything = `${printed.join("\n")}\n${openclawLogs()}`;
    assert.ok(!leaks(everything, token, ANTHROPIC_PREFIX), "OpenClaw printed the secret");
  },
});
