/**
 * Black-box tests of `clawauth exec` (docs/commands.md, docs/routing.md): fresh secrets in the
 * child's environment and never in its argv, the exit code passed through,
 * `--report` feeding the outcome back into rotation, refresh before running.
 */

import assert from "node:assert/strict";
import { fakeSecret, type TempState, tempState } from "../helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires } from "../oauth_helpers.ts";
import { apiKeyProfile, oauthProfile, storeOf, tokenProfile } from "../builders.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;

type Json = Record<string, unknown>;

/** The child's environment as `env` printed it. */
function envOf(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout.split("\n").filter((line) => line.includes("=")).map((line) => {
      const eq = line.indexOf("=");
      return [line.slice(0, eq), line.slice(eq + 1)];
    }),
  );
}

/** `exec` with `flags`, running `sh -c script` as the child. */
function execSh(script: string, flags: string[]): string[] {
  return ["exec", ...flags, "--", "sh", "-c", script];
}

/** A store with one OpenAI API key, `openai:ci`. */
function oneKey(state: TempState, extra: Json = {}): string {
  const key = fakeSecret("sk-");
  state.writeStore(storeOf({ "openai:ci": apiKeyProfile(key) }, extra));
  return key;
}

Deno.test("exec sets each provider's variable: ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN, OPENAI_API_KEY, OPENAI_ACCESS_TOKEN, ACME_API_KEY", async () => {
  await using state = await tempState();
  const secrets = {
    anthropicKey: fakeSecret("sk-ant-api03-"),
    anthropicToken: fakeSecret("sk-ant-oat01-"),
    openai: fakeSecret("sk-"),
    codex: fakeSecret("eyJ"),
    acme: fakeSecret("acme-"),
  };
  state.writeStore(storeOf({
    "anthropic:key": apiKeyProfile(secrets.anthropicKey, { provider: "anthropic" }),
    "anthropic:tok": tokenProfile(secrets.anthropicToken),
    "openai:ci": apiKeyProfile(secrets.openai),
    "openai-codex:default": oauthProfile({ access: secrets.codex, expires: Date.now() + HOUR }),
    "acme:x": apiKeyProfile(secrets.acme, { provider: "acme" }),
  }));
  const result = await state.run([
    "exec",
    "--profile",
    "anthropic:key",
    "--profile",
    "anthropic:tok",
    "--provider",
    "openai",
    "--provider",
    "openai-codex",
    "--provider",
    "acme",
    "--",
    "env",
  ], { env: { OPENAI_API_KEY: "stale-from-the-parent" } });
  assert.equal(result.code, 0, result.stderr);
  const env = envOf(result.stdout);
  assert.equal(env.ANTHROPIC_API_KEY, secrets.anthropicKey);
  assert.equal(env.CLAUDE_CODE_OAUTH_TOKEN, secrets.anthropicToken);
  assert.equal(env.OPENAI_API_KEY, secrets.openai, "a fresh secret replaces the parent's value");
  assert.equal(env.OPENAI_ACCESS_TOKEN, secrets.codex);
  assert.equal(env.ACME_API_KEY, secrets.acme, "an unknown provider gets PROVIDER_API_KEY");
  assert.equal(env.OPENCLAW_STATE_DIR, state.dir, "the rest of the environment is inherited");
  assert.equal(result.stderr, "");
});

Deno.test("exec --provider anthropic --provider openai routes each provider: a setup-token goes to CLAUDE_CODE_OAUTH_TOKEN, not ANTHROPIC_API_KEY", async () => {
  await using state = await tempState();
  const tok = fakeSecret("sk-ant-oat01-");
  const key = fakeSecret("sk-ant-api03-");
  const openai = fakeSecret("sk-");
  state.writeStore(storeOf({
    "anthropic:key": apiKeyProfile(key, { provider: "anthropic" }),
    "anthropic:tok": tokenProfile(tok),
    "openai:ci": apiKeyProfile(openai),
  }));
  const result = await state.run([
    "exec",
    "--provider",
    "anthropic",
    "--provider",
    "openai",
    "--",
    "env",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const env = envOf(result.stdout);
  assert.equal(env.CLAUDE_CODE_OAUTH_TOKEN, tok, "round robin: tokens before API keys");
  assert.equal(env.ANTHROPIC_API_KEY, undefined);
  assert.equal(env.OPENAI_API_KEY, openai);
  assert.ok(!result.stdout.includes(key));
});

Deno.test("exec --model Model@provider:profile pins that profile", async () => {
  await using state = await tempState();
  const [k1, k2] = [fakeSecret("sk-"), fakeSecret("sk-")];
  state.writeStore(storeOf({ "openai:a": apiKeyProfile(k1), "openai:b": apiKeyProfile(k2) }));
  const result = await state.run(["exec", "--model", "gpt-5@openai:b", "--", "env"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(envOf(result.stdout).OPENAI_API_KEY, k2);
});

Deno.test("exec --provider and --model combine: each sets its own provider's variable", async () => {
  await using state = await tempState();
  const [openai, key] = [fakeSecret("sk-"), fakeSecret("sk-ant-api03-")];
  state.writeStore(storeOf({
    "openai:ci": apiKeyProfile(openai),
    "anthropic:tok": tokenProfile(),
    "anthropic:key": apiKeyProfile(key, { provider: "anthropic" }),
  }));
  const result = await state.run([
    "exec",
    "--provider",
    "openai",
    "--model",
    "opus@anthropic:key",
    "--",
    "env",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const env = envOf(result.stdout);
  assert.equal(env.OPENAI_API_KEY, openai);
  assert.equal(env.ANTHROPIC_API_KEY, key, "the model spec's pin, not round robin's token");
  assert.equal(env.CLAUDE_CODE_OAUTH_TOKEN, undefined);
});

Deno.test("exec refuses a malformed --provider, --profile or --model with 64, naming it", async () => {
  await using state = await tempState();
  oneKey(state);
  const results = await Promise.all([
    ["--provider", "Not-A-Provider!"],
    ["--profile", "no-colon"],
    ["--model", "opus"],
  ].map((flags) => state.run(["exec", ...flags, "--", "sh", "-c", "echo ran"])));
  assert.deepEqual(results.map((r) => r.code), [64, 64, 64]);
  assert.match(results[0].stderr, /Not-A-Provider!/);
  assert.match(results[1].stderr, /no-colon/);
  for (const result of results) assert.equal(result.stdout, "");
});

Deno.test("exec puts no secret in argv: the child's $0 $@ and /proc cmdline, and clawauth's own, hold none", async () => {
  await using state = await tempState();
  const key = oneKey(state);
  const script = 'printf "%s\\n" "$0" "$@"; echo ---; tr "\\0" "\\n" </proc/$$/cmdline; ' +
    'echo ---; tr "\\0" "\\n" </proc/$PPID/cmdline';
  const result = await state.run([
    "exec",
    "--provider",
    "openai",
    "--",
    "sh",
    "-c",
    script,
    "child",
    "one",
    "two words",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const [args, own, parent] = result.stdout.split("---\n");
  assert.equal(args, "child\none\ntwo words\n", "the arguments arrive exactly as given");
  assert.equal(
    own.replace(/^\S*sh\n/, ""),
    `-c\n${script}\nchild\none\ntwo words\n`,
    "the child's argv is exactly what followed --",
  );
  assert.match(parent, /main\.ts\nexec\n--provider\nopenai\n--\nsh\n/, "the parent is clawauth");
  assert.ok(!result.stdout.includes(key), "no secret in any argv");
  assert.ok(!result.stdout.includes(key.slice(3, 20)));
});

Deno.test("exec takes clawauth's own secrets (CLAWAUTH_STORE_KEY, PGPASSWORD) out of the child's environment, and passes the rest on", async () => {
  await using state = await tempState();
  const key = oneKey(state);
  const storeKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const result = await state.run(execSh("env", ["--provider", "openai"]), {
    env: {
      CLAWAUTH_STORE_KEY: storeKey,
      PGPASSWORD: "pg-secret-of-the-fleet",
      CLAWAUTH_STORE_KEY_FILE: `${state.home}/fleet.key`,
      MY_SETTING: "kept",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const env = envOf(result.stdout);
  assert.equal(env.OPENAI_API_KEY, key);
  assert.equal(env.CLAWAUTH_STORE_KEY, undefined);
  assert.equal(env.PGPASSWORD, undefined);
  assert.ok(!result.stdout.includes(storeKey) && !result.stdout.includes("pg-secret"));
  assert.equal(env.CLAWAUTH_STORE_KEY_FILE, `${state.home}/fleet.key`, "a path is no secret");
  assert.equal(env.MY_SETTING, "kept");
  assert.equal(env.HOME, state.home);
});

Deno.test("exec passes the child's exit code through: 0, 3, 42", async () => {
  await using state = await tempState();
  oneKey(state);
  const codes = [0, 3, 42];
  const results = await Promise.all(
    codes.map((code) =>
      state.run(execSh(`echo out-${code}; exit ${code}`, ["--provider", "openai"]))
    ),
  );
  assert.deepEqual(results.map((r) => r.code), codes);
  assert.deepEqual(results.map((r) => r.stdout), codes.map((c) => `out-${c}\n`));
  assert.deepEqual(results.map((r) => r.stderr), ["", "", ""], "no error of clawauth's own");
});

Deno.test("exec: a child killed by SIGTERM makes clawauth exit 128 + 15", async () => {
  await using state = await tempState();
  oneKey(state);
  const result = await state.run(execSh("kill -TERM $$", ["--provider", "openai"]));
  assert.equal(result.code, 143, result.stderr);
});

Deno.test("exec forwards SIGTERM to the child, whose own exit code then becomes clawauth's", async () => {
  await using state = await tempState();
  oneKey(state);
  // The child traps TERM and exits 7; `wait` returns as soon as a trapped signal arrives.
  const script = 'trap "kill $!; exit 7" TERM; sleep 30 >/dev/null 2>&1 & echo ready; wait $!';
  const child = state.spawn(["exec", "--provider", "openai", "--", "sh", "-c", script], {
    stdin: "null",
    stderr: "null",
  });
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    seen += value;
  }
  assert.equal(seen, "ready\n");
  child.kill("SIGTERM");
  const status = await child.status;
  await lines.cancel();
  assert.equal(status.code, 7, "the child got the signal and chose its exit code");
  assert.equal(status.signal, null, "clawauth itself was not killed by it");
});

Deno.test("exec with no command after -- is a usage error (64) and runs nothing", async () => {
  await using state = await tempState();
  oneKey(state);
  const before = state.storeText();
  const results = await Promise.all([
    state.run(["exec", "--provider", "openai", "--"]),
    state.run(["exec", "--provider", "openai"]),
    state.run(["exec", "--provider", "openai", "env"]),
    state.run(["exec", "--provider", "openai", "--report-code", "x=rate_limit", "--", "true"]),
    state.run(["exec", "--provider", "openai", "--report-code", "42=overload", "--", "true"]),
  ]);
  assert.deepEqual(results.map((r) => r.code), [64, 64, 64, 64, 64]);
  for (const result of results) assert.equal(result.stdout, "");
  assert.equal(state.storeText(), before);
});

Deno.test("exec of a command that does not exist exits 1 with one sentence naming it and the next step", async () => {
  await using state = await tempState();
  oneKey(state);
  const result = await state.run(["exec", "--provider", "openai", "--", "no-such-command-x7"]);
  assert.equal(result.code, 1);
  const lines = result.stderr.trimEnd().split("\n");
  assert.match(lines[0], /^clawauth: .*no-such-command-x7.*not found/);
  assert.ok(lines.length <= 2, `one sentence plus the next step, got:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /\bat .*\.ts:\d+/, "no stack trace");
  assert.equal(result.stdout, "");
});

Deno.test("exec with no usable credential exits 77 with the login command and never runs the child", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:old": tokenProfile(fakeSecret("sk-ant-oat01-"), { expires: Date.now() - MIN }),
  }));
  const result = await state.run(execSh("echo ran", ["--provider", "anthropic"]));
  assert.equal(result.code, 77);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /clawauth setup-token --provider anthropic --profile old/);
});

Deno.test("exec and token never hand out an empty secret: an OAuth profile holding only a refresh token", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "openai-codex:x": { type: "oauth", provider: "openai-codex", refresh: fakeSecret("rt_") },
  }));
  // Should a refresh be attempted, it fails fast against a closed loopback port.
  state.writeFile(
    "clawauth.json",
    JSON.stringify({
      providers: { "openai-codex": { tokenUrl: "http://127.0.0.1:9/oauth/token" } },
    }),
  );
  const [exec, token] = await Promise.all([
    state.run(execSh("echo ran", ["--provider", "openai-codex"])),
    state.run(["token", "--provider", "openai-codex"]),
  ]);
  for (const result of [exec, token]) {
    assert.ok([69, 77].includes(result.code), `exit ${result.code}: ${result.stderr}`);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /openai-codex:x/);
  }
});

Deno.test("exec --report records ok on exit 0: counters cleared and lastGood written", async () => {
  await using state = await tempState();
  const past = Date.now() - MIN;
  oneKey(state, {
    usageStats: { "openai:ci": { errorCount: 3, cooldownUntil: past, lastFailureAt: past - MIN } },
  });
  const result = await state.run(["exec", "--provider", "openai", "--report", "--", "true"]);
  assert.equal(result.code, 0, result.stderr);
  const store = state.store() as { lastGood?: Json; usageStats: Record<string, Json> };
  assert.equal(store.usageStats["openai:ci"].errorCount, 0);
  assert.equal(store.usageStats["openai:ci"].cooldownUntil, undefined);
  assert.deepEqual(store.lastGood, { openai: "openai:ci" });

  // A failure afterwards starts the ladder at 1 min again.
  const before = Date.now();
  const failed = await state.run(
    execSh("exit 42", ["--provider", "openai", "--report", "--report-code", "42=rate_limit"]),
  );
  const after = Date.now();
  assert.equal(failed.code, 42);
  const entry = (state.store() as { usageStats: Record<string, Json> }).usageStats["openai:ci"];
  assert.equal(entry.errorCount, 1);
  const until = entry.cooldownUntil as number;
  assert.ok(until >= before + MIN && until <= after + MIN, `cooldownUntil ${until}`);
});

Deno.test("exec --report-code 42=rate_limit puts every profile used in cooldown when the child exits 42", async () => {
  await using state = await tempState();
  const tok = fakeSecret("sk-ant-oat01-");
  state.writeStore(storeOf({
    "openai:ci": apiKeyProfile(),
    "anthropic:work": tokenProfile(tok),
  }));
  const before = Date.now();
  const result = await state.run(
    execSh("exit 42", [
      "--provider",
      "openai",
      "--provider",
      "anthropic",
      "--report",
      "--report-code",
      "42=rate_limit",
      "--report-code",
      "43=billing",
    ]),
  );
  const after = Date.now();
  assert.equal(result.code, 42);
  const status = JSON.parse((await state.run(["status", "--json"])).stdout);
  const byId = Object.fromEntries(status.profiles.map((p: Json) => [p.id, p]));
  for (const id of ["openai:ci", "anthropic:work"]) {
    assert.equal(byId[id].state, "cooldown", id);
    assert.equal(byId[id].errorCount, 1, id);
    assert.ok(byId[id].cooldownUntil >= before + MIN && byId[id].cooldownUntil <= after + MIN);
  }
  const billed = await state.run(
    execSh("exit 43", ["--provider", "openai", "--report", "--report-code", "43=billing"]),
  );
  assert.equal(billed.code, 43);
  const entry = (state.store() as { usageStats: Record<string, Json> }).usageStats["openai:ci"];
  assert.equal(entry.disabledReason, "billing");
});

Deno.test("exec --report keeps the child's exit code when the profile is gone by the time it reports", async () => {
  await using state = await tempState();
  oneKey(state);
  // The child removes the profile, as another tool might while it runs.
  const result = await state.run(
    execSh(
      `printf '{"version":1,"profiles":{}}' > "$OPENCLAW_STATE_DIR/agents/main/agent/auth-profiles.json"; exit 42`,
      ["--provider", "openai", "--report", "--report-code", "42=rate_limit"],
    ),
  );
  assert.equal(result.code, 42, result.stderr);
  assert.match(result.stderr, /openai:ci/, "the lost report is mentioned");
});

Deno.test("exec records nothing for an unmapped exit code, or without --report", async () => {
  await using state = await tempState();
  oneKey(state);
  const before = state.storeText();
  const results = await Promise.all([
    state.run(execSh("exit 5", ["--provider", "openai", "--report"])),
    state.run(
      execSh("exit 41", ["--provider", "openai", "--report", "--report-code", "42=rate_limit"]),
    ),
    state.run(["exec", "--provider", "openai", "--", "true"]),
    state.run(execSh("exit 3", ["--provider", "openai", "--report-code", "3=timeout"])),
  ]);
  assert.deepEqual(results.map((r) => r.code), [5, 41, 0, 3]);
  assert.equal(state.storeText(), before, "a single profile's store is not touched");
});

Deno.test("exec records lastUsed when a provider has several profiles, so successive runs rotate keys", async () => {
  await using state = await tempState();
  const [k1, k2] = [fakeSecret("sk-"), fakeSecret("sk-")];
  state.writeStore(
    storeOf({ "openai:one": apiKeyProfile(k1), "openai:two": apiKeyProfile(k2) }),
  );
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    const result = await state.run(["exec", "--provider", "openai", "--", "env"]);
    assert.equal(result.code, 0, result.stderr);
    seen.push(envOf(result.stdout).OPENAI_API_KEY);
  }
  assert.deepEqual(new Set(seen.slice(0, 2)), new Set([k1, k2]));
  assert.equal(seen[2], seen[0]);
});

Deno.test("exec refreshes an expired OAuth token first and gives the fresh access token as OPENAI_ACCESS_TOKEN", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  const old = profilesOf(state)[id];
  setExpires(state, id, Date.now() - 1000);
  const result = await state.run([
    "exec",
    "--provider",
    "openai-codex",
    "--",
    "sh",
    "-c",
    'printf %s "$OPENAI_ACCESS_TOKEN"',
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(idp.counts().refresh_token, 1);
  const fresh = profilesOf(state)[id];
  assert.notEqual(fresh.access, old.access);
  assert.equal(result.stdout, fresh.access, "the child sees the refreshed token");
  assert.ok(Number(fresh.expires) > Date.now() + 30 * MIN);
});
