/**
 * `doctor` in OpenClaw's SQLite store: a retired JSON file beside it locks
 * OpenClaw's providers out (`AUTH_PROFILE_MIGRATION_REQUIRED`), so doctor
 * calls it an error, and `doctor --fix` moves its profiles into the store
 * and archives it as OpenClaw does; OpenClaw then lists every profile.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeSecret, ignoredSuffix, leaks } from "../helpers.ts";
import { openclawAvailable, openclawState, skipReason } from "../openclaw_env.ts";
import { storeOf, tokenProfile } from "../builders.ts";

const SUFFIX = ignoredSuffix(openclawAvailable ? undefined : skipReason);

type Entry = Record<string, unknown>;

Deno.test({
  name:
    `openclaw doctor: retired JSON files beside the SQLite store are errors; --fix moves their profiles in and archives them${SUFFIX}`,
  ignore: !openclawAvailable,
  async fn() {
    await using state = await openclawState();
    const agentDir = state.agentDir();
    const token = fakeSecret("sk-ant-oat01-");
    const legacyAccess = fakeSecret("at-");
    // What clawauth (≤ this version) or OpenClaw ≤ 2026.5 left behind.
    state.writeFile(
      "agents/main/agent/auth-profiles.json",
      JSON.stringify(
        storeOf({ "anthropic:old": tokenProfile(token) }, {
          order: { anthropic: ["anthropic:old"] },
        }),
      ),
    );
    state.writeFile(
      "agents/main/agent/auth.json",
      JSON.stringify({ anthropic: { type: "api_key", key: token } }),
    );
    state.writeFile(
      "credentials/oauth.json",
      JSON.stringify({
        "openai-codex": { access: legacyAccess, refresh: fakeSecret("rt-"), expires: 4e12 },
      }),
    );

    const report = await state.run(["doctor", "--json"]);
    assert.equal(report.code, 1, report.stderr);
    const findings = JSON.parse(report.stdout).findings as Entry[];
    const retired = findings.filter((f) => f.check === "openclaw" && f.severity === "error");
    assert.equal(retired.length, 3, JSON.stringify(findings));
    assert.ok(retired.every((f) => String(f.message).includes("AUTH_PROFILE_MIGRATION_REQUIRED")));
    assert.equal(JSON.parse(report.stdout).store, "openclaw");

    const fixed = await state.run(["doctor", "--fix", "--json"]);
    assert.ok(!leaks(fixed.stdout + fixed.stderr, token, "sk-ant-oat01-"));
    const after = JSON.parse(fixed.stdout);
    assert.equal(after.fixed.filter((f: Entry) => f.check === "openclaw").length, 3);
    const left = [...Deno.readDirSync(agentDir)].map((e) => e.name);
    assert.ok(!left.includes("auth-profiles.json") && !left.includes("auth.json"), String(left));
    assert.ok(left.some((n) => /^auth-profiles\.json\.migrated-.+-[0-9a-f-]{36}$/.test(n)));
    assert.ok(left.some((n) => n.startsWith("auth.json.migrated-")));

    const list = JSON.parse((await state.run(["list", "--json"])).stdout);
    const ids = list.profiles.map((p: Entry) => p.id).sort();
    // auth.json is a derived cache: nothing is imported from it (no bogus api_key profile).
    assert.deepEqual(ids, ["anthropic:old", "openai:default"]);
    const served = await state.run(["token", "--provider", "openai-codex"]);
    assert.equal(served.stdout, `${legacyAccess}\n`, served.stderr);

    const status = await state.openclaw(["models", "status", "--json"]);
    assert.equal(status.code, 0, status.stderr);
    assert.doesNotMatch(status.stdout + status.stderr, /AUTH_PROFILE_MIGRATION_REQUIRED/);
    assert.match(status.stdout, /anthropic:old/);
    assert.ok(!leaks(status.stdout + status.stderr, token, "sk-ant-oat01-"));

    const again = await state.run(["doctor", "--json"]);
    assert.equal(again.code, 0, again.stdout);
  },
});
