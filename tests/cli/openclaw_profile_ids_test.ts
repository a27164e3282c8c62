/**
 * Profile ids OpenClaw keeps: OpenClaw 2026.9.6 retires `openai:codex-cli`
 * and its `doctor --fix` renames it to `openai:default`, after which
 * `--profile openai:codex-cli` found nothing. So `import --from codex-cli`
 * in the openclaw store names Codex CLI's login as `login` would (the
 * account e-mail, else `default`) and its API key as OpenClaw's doctor would,
 * and `clawauth doctor` flags (and `--fix` renames) an `openai:codex-cli`
 * left by an older import. Black-box against the real OpenClaw on copies of
 * a prepared state dir (tests/openclaw_env.ts); ignored, saying why, when
 * OpenClaw is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeSecret } from "../helpers.ts";
import { type OpenclawState, openclawState, openclawTests } from "../openclaw_env.ts";
import { assertOpenclawOk, clawauth, storedProfiles } from "../openclaw_store_support.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

const base64url = (value: unknown): string =>
  btoa(JSON.stringify(value)).replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_");

/** Writes Codex CLI's auth.json (ChatGPT login and API key) into the copy's HOME; returns its secrets. */
function writeCodexAuth(
  state: OpenclawState,
  email: string | undefined,
): { access: string; key: string } {
  const exp = Math.floor(Date.now() / 1000) + 30 * 86_400;
  const access = `h.${base64url({ exp, sub: "user-1" })}.${fakeSecret("")}`;
  const key = fakeSecret("sk-proj-");
  Deno.mkdirSync(`${state.home}/.codex`, { recursive: true });
  Deno.writeTextFileSync(
    `${state.home}/.codex/auth.json`,
    JSON.stringify({
      OPENAI_API_KEY: key,
      tokens: {
        access_token: access,
        refresh_token: fakeSecret("rt-"),
        id_token: `h.${base64url(email ? { email } : {})}.s`,
        account_id: "acct-9",
      },
      last_refresh: "2026-12-01T00:00:00Z",
    }),
  );
  return { access, key };
}

async function tokenOf(state: OpenclawState, id: string): Promise<string> {
  return (await clawauth(state, ["token", "--profile", id])).stdout.trim();
}

/** `openclaw doctor --fix`, the run that renames retired ids. */
async function openclawDoctorFix(state: OpenclawState): Promise<void> {
  assertOpenclawOk(
    await state.openclaw(["doctor", "--fix", "--non-interactive"]),
    "openclaw doctor --fix",
  );
}

Deno.test({
  name:
    `openclaw store: import --from codex-cli names the login openai:<e-mail> and the key openai:default, which survive openclaw doctor --fix and keep answering to clawauth token${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const { access, key } = writeCodexAuth(state, "dev@example.com");
    const imported = await clawauth(state, ["import", "--from", "codex-cli", "--json"]);
    const ids = JSON.parse(imported.stdout).imported.map((i: { id: string }) => i.id);
    assert.deepEqual(ids, ["openai:dev@example.com", "openai:default"]);
    assert.deepEqual(Object.keys(storedProfiles(state)).sort(), ids.toSorted());

    await openclawDoctorFix(state);
    const kept = storedProfiles(state);
    assert.deepEqual(Object.keys(kept).sort(), ids.toSorted(), "OpenClaw renamed nothing");
    assert.equal(kept["openai:dev@example.com"].type, "oauth");
    assert.equal(kept["openai:default"].type, "api_key");
    assert.equal(await tokenOf(state, "openai:dev@example.com"), access);
    assert.equal(await tokenOf(state, "openai:default"), key);

    const again = await clawauth(state, ["import", "--from", "codex-cli", "--json"]);
    assert.deepEqual(JSON.parse(again.stdout).imported, [], "a second import adds nothing");
  },
});

Deno.test({
  name:
    `openclaw store: a Codex login without e-mail is openai:default and its API key openai:cli-default, as OpenClaw would name them${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const { access, key } = writeCodexAuth(state, undefined);
    const imported = await clawauth(state, ["import", "--from", "codex-cli", "--json"]);
    assert.deepEqual(
      JSON.parse(imported.stdout).imported.map((i: { id: string }) => i.id),
      ["openai:default", "openai:cli-default"],
    );
    assert.equal(await tokenOf(state, "openai:default"), access);
    assert.equal(await tokenOf(state, "openai:cli-default"), key);
  },
});

interface Finding {
  check: string;
  severity: string;
  message: string;
  fix?: string;
}

Deno.test({
  name:
    `openclaw store: doctor flags an openai:codex-cli profile, --fix renames it to openai:default with its order, and OpenClaw then keeps that id${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    const key = fakeSecret("sk-proj-");
    const other = fakeSecret("sk-proj-");
    // What an older `import --from codex-cli` left: the retired id, in the routing order.
    for (const [profile, secret] of [["codex-cli", key], ["ci", other]]) {
      await clawauth(
        state,
        ["paste-token", "--provider", "openai", "--type", "api-key", "--profile", profile],
        { stdin: secret },
      );
    }
    await clawauth(state, [
      "order",
      "set",
      "--provider",
      "openai",
      "openai:codex-cli",
      "openai:ci",
    ]);

    const doctor = await state.run(["doctor", "--json"]);
    assert.equal(doctor.code, 0, `a warning, not an error: ${doctor.stdout}`);
    const flagged = (JSON.parse(doctor.stdout).findings as Finding[])
      .find((f) => f.check === "openclaw" && f.message.includes("openai:codex-cli"));
    assert.equal(flagged?.severity, "warning", doctor.stdout);
    assert.match(flagged.message, /OpenClaw retires.*renames it to openai:default/);
    assert.equal(flagged.fix, "clawauth doctor --fix");
    const human = await state.run(["doctor"]);
    assert.match(human.stdout, /Run clawauth doctor --fix/);

    const fixed = await state.run(["doctor", "--fix", "--json"]);
    assert.equal(fixed.code, 0, fixed.stdout);
    assert.ok(
      JSON.parse(fixed.stdout).fixed.some((f: { message: string }) =>
        f.message.startsWith("renamed openai:codex-cli to openai:default")
      ),
      fixed.stdout,
    );
    assert.deepEqual(Object.keys(storedProfiles(state)).sort(), ["openai:ci", "openai:default"]);
    const order = await clawauth(state, ["order", "get", "--provider", "openai", "--json"]);
    assert.match(order.stdout, /"openai:default",\s*"openai:ci"/);

    await openclawDoctorFix(state);
    assert.deepEqual(Object.keys(storedProfiles(state)).sort(), ["openai:ci", "openai:default"]);
    assert.equal(await tokenOf(state, "openai:default"), key);
    const clean = await state.run(["doctor", "--json"]);
    assert.ok(
      !(JSON.parse(clean.stdout).findings as Finding[]).some((f) =>
        f.message.includes("OpenClaw retires")
      ),
      clean.stdout,
    );
  },
});
