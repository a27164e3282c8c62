/**
 * `clawauth connect openclaw`: without OpenClaw on PATH it prints the exec
 * SecretRef provider entry and writes nothing; with the real OpenClaw
 * (tests/openclaw_env.ts; ignored with the reason when it is not
 * installed) it applies the entry with `openclaw config patch`, OpenClaw's
 * own `secrets audit --allow-exec` resolves a tokenRef through it, and
 * `disconnect` takes it out with `openclaw config unset`. About 15 s.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DENO_DIR } from "../../scripts/cli_runner.ts";
import { fakeSecret, tempState } from "../helpers.ts";
import { openclawCommand, openclawState, openclawTests } from "../openclaw_env.ts";

const { ignore, suffix: SUFFIX } = openclawTests;

Deno.test("connect openclaw without openclaw on PATH prints the exec provider entry (absolute real command, state dir in args) and writes nothing", async () => {
  await using state = await tempState();
  const result = await state.run(["connect", "openclaw"], {
    env: { HOME: state.home, PATH: "/usr/bin:/bin" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /openclaw is not on PATH; add this to .*openclaw\.json/);
  const json = result.stdout.slice(result.stdout.indexOf("{"), result.stdout.lastIndexOf("}") + 1);
  const entry = JSON.parse(json).secrets.providers.clawauth;
  assert.equal(entry.source, "exec");
  assert.equal(entry.command, Deno.realPathSync(Deno.execPath()));
  assert.deepEqual(entry.args.slice(-3), ["openclaw-secret", "--state-dir", state.dir]);
  assert.ok(entry.args.includes("--allow-sys=uid"));
  assert.deepEqual(entry.passEnv, ["HOME", "DENO_DIR"]);
  assert.equal(entry.jsonOnly, true);
  assert.equal(entry.timeoutMs, 15000);
  assert.throws(() => Deno.statSync(`${state.dir}/openclaw.json`), Deno.errors.NotFound);
  const refused = await state.run(["connect", "openclaw", "--provider", "anthropic"]);
  assert.equal(refused.code, 64);
});

Deno.test({
  name:
    `connect openclaw applies the provider with openclaw config patch; OpenClaw's secrets audit resolves a tokenRef through it; disconnect unsets it${SUFFIX}`,
  ignore,
  async fn() {
    await using openclaw = await openclawState();
    const token = fakeSecret("sk-ant-oat01-");
    const pasted = await openclaw.run(
      ["paste-token", "--provider", "anthropic", "--profile", "work"],
      { stdin: `${token}\n`, env: { HOME: openclaw.home } },
    );
    assert.equal(pasted.code, 0, pasted.stderr);
    // `openclaw` on PATH: the installed one, through a wrapper.
    const bin = `${openclaw.home}/bin`;
    Deno.mkdirSync(bin, { recursive: true });
    const { node, entry } = openclawCommand();
    Deno.writeTextFileSync(`${bin}/openclaw`, `#!/bin/sh\nexec '${node}' '${entry}' "$@"\n`);
    Deno.chmodSync(`${bin}/openclaw`, 0o755);
    const before = Deno.readTextFileSync(`${openclaw.dir}/openclaw.json`);
    const env = {
      HOME: openclaw.home,
      PATH: `${bin}:/usr/bin:/bin`,
      OPENCLAW_NO_AUTO_UPDATE: "1",
      OPENCLAW_DISABLE_BONJOUR: "1",
    };

    const connected = await openclaw.run(["connect", "openclaw"], { env });
    assert.equal(connected.code, 0, connected.stderr);
    assert.match(connected.stdout, /Connected openclaw/);
    const config = JSON.parse(Deno.readTextFileSync(`${openclaw.dir}/openclaw.json`));
    assert.equal(config.secrets.providers.clawauth.command, Deno.realPathSync(Deno.execPath()));
    const again = await openclaw.run(["connect", "openclaw"], { env });
    assert.match(again.stdout, /already connected/);

    // A profile of OpenClaw's whose token is a ref to clawauth's anthropic:work.
    const plan = `${openclaw.home}/plan.json`;
    Deno.writeTextFileSync(
      plan,
      JSON.stringify({
        version: 1,
        protocolVersion: 1,
        targets: [{
          type: "auth-profiles.token.token",
          path: "profiles.anthropic:viaclaw.token",
          agentId: "main",
          authProfileProvider: "anthropic",
          ref: { source: "exec", provider: "clawauth", id: "anthropic:work" },
        }],
      }),
    );
    const apply = await openclaw.openclaw(["secrets", "apply", "--from", plan, "--allow-exec"], {
      env: { DENO_DIR },
    });
    assert.equal(apply.code, 0, `${apply.stdout}\n${apply.stderr}`);
    const audit = await openclaw.openclaw(["secrets", "audit", "--allow-exec", "--json"], {
      env: { DENO_DIR },
    });
    assert.equal(audit.code, 0, `${audit.stdout}\n${audit.stderr}`);
    const report = JSON.parse(audit.stdout);
    assert.equal(report.resolution.refsChecked, 1);
    assert.equal(report.summary.unresolvedRefCount, 0);

    const undone = await openclaw.run(["disconnect", "openclaw"], { env });
    assert.equal(undone.code, 0, undone.stderr);
    // connect made `secrets`, so it goes: OpenClaw writes the file back as it was.
    assert.equal(Deno.readTextFileSync(`${openclaw.dir}/openclaw.json`), before);
  },
});
