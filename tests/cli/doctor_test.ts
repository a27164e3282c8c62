/**
 * `clawauth doctor` (docs/commands.md): each check, what `--fix` repairs, and what it
 * must never touch (a store that does not parse, a lock someone holds).
 */

import assert from "node:assert/strict";
import {
  fakeSecret,
  holdFlock,
  type RunResult,
  type TempState,
  tempState,
  writeLoopbackConfig,
} from "../helpers.ts";
import { freePort, idpFor } from "../oauth_helpers.ts";
import { apiKeyProfile, oauthProfile, storeOf, tokenProfile } from "../builders.ts";

interface Finding {
  check: string;
  severity: "ok" | "warning" | "error";
  message: string;
  fix?: string;
  agent?: string;
  path?: string;
}

interface Report {
  agent: string | null;
  agents: string[];
  stateDir: string;
  findings: Finding[];
  fixed: { check: string; message: string; path: string }[];
}

async function doctor(
  state: TempState,
  args: string[] = [],
): Promise<{ result: RunResult; report: Report }> {
  const result = await state.run(["doctor", "--json", ...args]);
  assert.equal(result.stderr, "", "doctor reports on stdout only");
  return { result, report: JSON.parse(result.stdout) };
}

function problems(report: Report, check?: string): Finding[] {
  return report.findings.filter((f) => f.severity !== "ok" && (!check || f.check === check));
}

const mode = (path: string): number => Deno.statSync(path).mode! & 0o777;

Deno.test("doctor on a healthy state dir exits 0 with only ok findings, one plain line each", async () => {
  await using state = await tempState();
  assert.equal(
    (await state.run(["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: fakeSecret("sk-"),
    })).code,
    0,
  );
  const { result, report } = await doctor(state);
  assert.equal(result.code, 0);
  assert.deepEqual(problems(report), []);
  assert.equal(report.agent, null);
  assert.deepEqual(report.agents, ["main"]);
  assert.equal(report.stateDir, state.dir);
  assert.deepEqual(report.fixed, []);
  for (const check of ["store", "profiles", "permissions", "pending", "lock", "config"]) {
    assert.ok(report.findings.some((f) => f.check === check), `a ${check} finding`);
  }
  assert.ok(!report.findings.some((f) => f.check === "clock"), "no clock check without --online");
  const human = await state.run(["doctor"]);
  assert.equal(human.code, 0);
  const lines = human.stdout.trim().split("\n").filter((line) => /^(ok|warn|FAIL) /.test(line));
  assert.equal(lines.length, report.findings.length, human.stdout);
  assert.ok(lines.every((line) => line.startsWith("ok ")), human.stdout);
  assert.doesNotMatch(human.stdout, /[^\x20-\x7e\n·]/, "plain text when not a TTY");
  assert.match(human.stdout, /0 errors, 0 warnings\./);
});

Deno.test("doctor on an empty state dir checks main and creates nothing", async () => {
  await using state = await tempState();
  const { result, report } = await doctor(state);
  assert.equal(result.code, 0, result.stdout);
  assert.deepEqual(report.agents, ["main"]);
  assert.throws(() => Deno.statSync(state.dir), Deno.errors.NotFound);
});

Deno.test("doctor names a store that does not parse as an error, exits 1, and never rewrites it, even with --fix", async () => {
  await using state = await tempState();
  const secret = fakeSecret();
  const text = `{"version": 1, "profiles": {"anthropic:a": {"type": "token", "token": "${secret}"`;
  state.writeStore(text);
  Deno.chmodSync(`${state.agentDir()}/auth-profiles.json`, 0o600);
  for (const args of [[], ["--fix"]]) {
    const { result, report } = await doctor(state, args);
    assert.equal(result.code, 1);
    const [store] = problems(report, "store");
    assert.equal(store.severity, "error");
    assert.ok(store.message.includes(`${state.agentDir()}/auth-profiles.json`), store.message);
    assert.match(store.message, /JSON/, "the parse error is named");
    assert.ok(store.fix, "a fix is suggested");
    assert.ok(!result.stdout.includes(secret.slice(13)), "the secret is not quoted");
    assert.equal(state.storeText(), text);
  }
  const wrongVersion = JSON.stringify({ version: 2, profiles: {} });
  state.writeStore(wrongVersion);
  const { report } = await doctor(state);
  assert.match(problems(report, "store")[0].message, /version is 2/);
  assert.equal(state.storeText(), wrongVersion);
});

Deno.test("doctor lists every invalid profile with its reason", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:ok": tokenProfile(),
    "anthropic:neg": tokenProfile(fakeSecret(), { expires: -1 }),
    "anthropic:notype": { provider: "anthropic", token: fakeSecret() },
    "no-colon": apiKeyProfile(),
  }));
  const { result, report } = await doctor(state);
  assert.equal(result.code, 1);
  const invalid = problems(report, "profiles");
  assert.deepEqual(invalid.map((f) => f.severity), ["error", "error", "error"]);
  assert.match(invalid[0].message, /anthropic:neg is invalid: expires is not a valid/);
  assert.match(invalid[1].message, /anthropic:notype is invalid: type is not/);
  assert.match(invalid[2].message, /no-colon is invalid: profile id is not <provider>:<name>/);
  assert.match(invalid[0].fix!, /clawauth remove anthropic:neg/);
});

Deno.test("doctor gives the exact login command for profiles that need a new login, expired or expiring", async () => {
  await using state = await tempState();
  const now = Date.now();
  state.writeStore(storeOf({
    "openai-codex:work": oauthProfile({ access: "a", refresh: "r", expires: now - 1000 }),
    "anthropic:old": tokenProfile(fakeSecret(), { expires: now - 3_600_000 }),
    "anthropic:soon": tokenProfile(fakeSecret(), { expires: now + 3_600_000 }),
    "openai:default": apiKeyProfile(),
  }, { usageStats: { "openai-codex:work": { needsLogin: now } } }));
  const { result, report } = await doctor(state);
  assert.equal(result.code, 1);
  const login = problems(report, "login");
  assert.deepEqual(
    login.map((f) => [f.severity, f.fix]),
    [
      ["error", "clawauth login --provider openai-codex --profile work"],
      ["error", "clawauth setup-token --provider anthropic --profile old"],
      ["warning", "clawauth setup-token --provider anthropic --profile soon"],
    ],
  );
  assert.match(login[0].message, /needs a new login/);
  assert.match(login[1].message, /expired/);
});

Deno.test("doctor warns about group- or world-readable files and directories; --fix makes them 0600/0700", async () => {
  await using state = await tempState();
  writeLoopbackConfig(state);
  assert.equal(
    (await state.run(["paste-token", "--provider", "anthropic"], {
      stdin: fakeSecret(),
    })).code,
    0,
  );
  assert.equal((await state.run(["login", "--provider", "openai-codex", "--start"])).code, 0);
  const dir = state.agentDir();
  const pending = `${dir}/pending`;
  const [pendingFile] = [...Deno.readDirSync(pending)].map((e) => `${pending}/${e.name}`);
  const files = [`${dir}/auth-profiles.json`, `${dir}/auth.json`, `${dir}/auth-profiles.lock`];
  for (const file of [...files, pendingFile]) Deno.chmodSync(file, 0o644);
  for (const d of [state.dir, dir, pending]) Deno.chmodSync(d, 0o755);
  const { result, report } = await doctor(state);
  assert.equal(result.code, 0, "too-open modes are warnings");
  const flagged = problems(report, "permissions");
  assert.ok(flagged.every((f) => f.severity === "warning" && f.fix === "clawauth doctor --fix"));
  assert.deepEqual(
    flagged.map((f) => f.path).sort(),
    [...files, pendingFile, state.dir, dir, pending].sort(),
  );
  const fixed = await doctor(state, ["--fix"]);
  assert.equal(fixed.result.code, 0);
  assert.equal(fixed.report.fixed.length, 7);
  for (const file of [...files, pendingFile]) assert.equal(mode(file), 0o600, file);
  for (const d of [state.dir, dir, pending]) assert.equal(mode(d), 0o700, d);
  assert.deepEqual(problems((await doctor(state)).report, "permissions"), []);
});

Deno.test("doctor reports stale pending logins and --fix deletes only those", async () => {
  await using state = await tempState();
  writeLoopbackConfig(state);
  for (let i = 0; i < 2; i++) {
    assert.equal((await state.run(["login", "--provider", "openai-codex", "--start"])).code, 0);
  }
  const pending = `${state.agentDir()}/pending`;
  const [expired, live] = [...Deno.readDirSync(pending)].map((e) => `${pending}/${e.name}`);
  const data = JSON.parse(Deno.readTextFileSync(expired));
  Deno.writeTextFileSync(expired, JSON.stringify({ ...data, expiresAt: Date.now() - 1000 }));
  const damaged = `${pending}/0123456789abcdef0123456789abcdef.json`;
  Deno.writeTextFileSync(damaged, '{"provider": "openai-codex", "verif');
  Deno.chmodSync(damaged, 0o600);
  const { result, report } = await doctor(state);
  assert.equal(result.code, 0);
  const stale = problems(report, "pending");
  assert.deepEqual(stale.map((f) => f.path).sort(), [damaged, expired].sort());
  assert.ok(stale.every((f) => f.severity === "warning"));
  assert.ok(!result.stdout.includes(data.verifier), "the verifier is never printed");
  const fixed = await doctor(state, ["--fix"]);
  assert.deepEqual(
    fixed.report.fixed.filter((f) => f.check === "pending").map((f) => f.path).sort(),
    [damaged, expired].sort(),
  );
  assert.deepEqual([...Deno.readDirSync(pending)].map((e) => `${pending}/${e.name}`), [live]);
});

Deno.test("doctor reports a lock held by another process without waiting for it or breaking it", async () => {
  await using state = await tempState();
  assert.equal(
    (await state.run(["paste-token", "--provider", "anthropic"], {
      stdin: fakeSecret(),
    })).code,
    0,
  );
  const lock = `${state.agentDir()}/auth-profiles.lock`;
  const temp = `${state.agentDir()}/auth-profiles.json.4242.abc.tmp`;
  Deno.writeTextFileSync(temp, "{");
  const holder = await holdFlock(lock);
  try {
    const started = Date.now();
    const { result, report } = await doctor(state, ["--fix"]);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(result.code, 0);
    const [held] = problems(report, "lock");
    assert.equal(held.severity, "warning");
    assert.match(held.message, /held by another process/);
    assert.ok(held.fix);
    assert.deepEqual(problems(report, "temp-files"), [], "a fresh temp file may be a live write");
    assert.ok(Deno.statSync(temp).isFile, "left alone while the lock is held");
    // The holder still has it: a writer times out.
    const blocked = await state.run(["paste-token", "--provider", "anthropic", "--profile", "b"], {
      stdin: fakeSecret(),
      env: { CLAWAUTH_LOCK_TIMEOUT: "0.3" },
    });
    assert.equal(blocked.code, 75, blocked.stderr);
  } finally {
    await holder.release();
  }
  const { report } = await doctor(state);
  assert.deepEqual(problems(report, "lock"), []);
  const [left] = problems(report, "temp-files");
  assert.equal(left.path, temp, "with the lock free, a temp file is a leftover");
  const fixed = await doctor(state, ["--fix"]);
  assert.deepEqual(fixed.report.fixed.map((f) => f.path), [temp]);
  assert.throws(() => Deno.statSync(temp), Deno.errors.NotFound);
});

Deno.test("doctor checks clawauth.json: malformed, and http endpoints off loopback, are errors", async () => {
  await using state = await tempState();
  state.writeFile("clawauth.json", '{"providers": {');
  let { result, report } = await doctor(state);
  assert.equal(result.code, 1);
  const [config] = problems(report, "config");
  assert.equal(config.severity, "error");
  assert.ok(config.message.includes(`${state.dir}/clawauth.json`));
  state.writeFile(
    "clawauth.json",
    JSON.stringify({
      providers: {
        "openai-codex": { tokenUrl: "http://auth.example.com/token" },
        corp: { issuer: "https://id.example.com", clientId: 7 },
      },
    }),
  );
  ({ result, report } = await doctor(state));
  assert.equal(result.code, 1);
  const found = problems(report, "config").map((f) => f.message);
  assert.equal(found.length, 2, found.join("\n"));
  assert.match(found[0], /openai-codex: tokenUrl must use https/);
  assert.match(found[1], /corp: .*clientId/);
  writeLoopbackConfig(state);
  ({ result } = await doctor(state));
  assert.equal(result.code, 0);
});

Deno.test("doctor --online compares the clock with the provider's Date header; skips silently when unreachable", async () => {
  await using state = await tempState();
  const idp = await idpFor(state);
  try {
    const { report } = await doctor(state, ["--online"]);
    const clock = report.findings.filter((f) => f.check === "clock");
    assert.equal(clock.length, 1, JSON.stringify(report.findings));
    assert.equal(clock[0].severity, "ok");
    assert.match(clock[0].message, /127\.0\.0\.1/);
  } finally {
    await idp.close();
  }
  // A server whose clock is 10 minutes behind ours.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(null, { headers: { date: new Date(Date.now() - 600_000).toUTCString() } }),
  );
  try {
    state.writeFile(
      "clawauth.json",
      JSON.stringify({
        providers: {
          "openai-codex": { tokenUrl: `http://127.0.0.1:${server.addr.port}/oauth/token` },
          // Nothing listens here: skipped without a finding.
          corp: { tokenUrl: `http://127.0.0.1:${freePort()}/token`, clientId: "c" },
        },
      }),
    );
    const { result, report } = await doctor(state, ["--online"]);
    assert.equal(result.code, 0, "clock skew is a warning");
    const clock = report.findings.filter((f) => f.check === "clock");
    assert.equal(clock.length, 1, JSON.stringify(clock));
    assert.equal(clock[0].severity, "warning");
    assert.match(clock[0].message, /10m 0s ahead of|9m 59s ahead of|10m ahead of/);
    assert.ok(clock[0].fix);
  } finally {
    await server.shutdown();
  }
});

Deno.test("doctor checks every agent, or only the one given with --agent", async () => {
  await using state = await tempState();
  assert.equal((await state.run(["agents", "add", "work"])).code, 0);
  assert.equal(
    (await state.run(["paste-token", "--provider", "anthropic"], {
      stdin: fakeSecret(),
    })).code,
    0,
  );
  state.writeStore("[]", "work");
  const all = await doctor(state);
  assert.equal(all.result.code, 1);
  assert.deepEqual(all.report.agents, ["main", "work"]);
  assert.deepEqual(problems(all.report).map((f) => [f.check, f.agent]), [["store", "work"]]);
  const human = await state.run(["doctor"]);
  assert.match(human.stdout, /^FAIL \[work\] store: /m);
  const main = await doctor(state, ["--agent", "main"]);
  assert.equal(main.result.code, 0);
  assert.equal(main.report.agent, "main");
  assert.deepEqual(main.report.agents, ["main"]);
  const env = await state.run(["doctor", "--json"], { env: { CLAWAUTH_AGENT: "main" } });
  assert.equal(env.code, 1, "$CLAWAUTH_AGENT does not narrow doctor");
  const bad = await state.run(["doctor", "--agent", "../x"]);
  assert.equal(bad.code, 64);
});

Deno.test("doctor --help documents the checks and the scope; an unknown flag is a usage error", async () => {
  await using state = await tempState();
  const help = await state.run(["doctor", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--fix/);
  assert.match(help.stdout, /--online/);
  assert.match(help.stdout, /only the one given with --agent/);
  assert.match((await state.run(["--help"])).stdout, /doctor/);
  assert.equal((await state.run(["doctor", "--frobnicate"])).code, 64);
});
