/**
 * `clawauth proxy --print-unit` in-process: the systemd user unit runs this
 * clawauth (from source: `deno run` with the binary's flags and the absolute
 * main.ts) as `proxy` with the state dir, agent and the proxy flags given,
 * restarts it on failure only, and quotes what systemd would expand.
 */

import assert from "node:assert/strict";
import { inProcessState } from "../fake_context.ts";
import { selfCommand } from "../../lib/connect/self_command.ts";
import { systemdWord } from "../../lib/proxy/systemd_unit.ts";

/** The value of `key=` in the unit, or `undefined`. */
function setting(unit: string, key: string): string | undefined {
  return unit.split("\n").find((line) => line.startsWith(`${key}=`))?.slice(key.length + 1);
}

Deno.test("proxy --print-unit: ExecStart runs this clawauth's proxy with the state dir, agent and flags given; Restart=on-failure; installed for the user's default target", async () => {
  await using state = await inProcessState();
  const flags = ["--agent", "work", "--port", "8788", "--strategy", "least-used"];
  const result = await state.run(["proxy", "--print-unit", ...flags]);
  assert.equal(result.code, 0, result.stderr);
  const unit = result.stdout;
  assert.equal(
    setting(unit, "ExecStart"),
    [...selfCommand(), "proxy", "--state-dir", state.dir, ...flags].join(" "),
  );
  assert.ok(selfCommand()[0].startsWith("/"), "an absolute program");
  assert.match(setting(unit, "ExecStart")!, /\/main\.ts proxy /, "a run from source names main.ts");
  assert.equal(setting(unit, "Restart"), "on-failure");
  assert.equal(setting(unit, "Type"), "simple");
  assert.equal(setting(unit, "WantedBy"), "default.target");
  assert.ok(Number(setting(unit, "TimeoutStopSec")) > 10, "room for the 10 s drain");
  assert.match(
    unit,
    /systemctl --user daemon-reload && systemctl --user enable --now clawauth-proxy/,
  );
  assert.equal(setting(unit, "Environment"), undefined, "nothing to carry from this environment");
});

Deno.test("proxy --print-unit carries CLAWAUTH_CONFIG, quoted for systemd, and the store named; a non-loopback --host is still refused", async () => {
  await using state = await inProcessState();
  const result = await state.run(["proxy", "--print-unit"], {
    env: {
      CLAWAUTH_CONFIG: "/home/me/my configs/100%/clawauth.json",
      CLAWAUTH_STORE: "postgres://me@db.example/clawauth",
    },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    setting(result.stdout, "Environment"),
    '"CLAWAUTH_CONFIG=/home/me/my configs/100%%/clawauth.json"',
  );
  assert.match(
    setting(result.stdout, "ExecStart")!,
    / proxy --state-dir \S+ --store postgres:\/\/me@db\.example\/clawauth$/,
  );

  const refused = await state.run(["proxy", "--print-unit", "--host", "0.0.0.0"]);
  assert.equal(refused.code, 64);
  assert.equal(refused.stdout, "");
});

Deno.test("systemdWord doubles % and $, and quotes words with spaces, quotes or backslashes", () => {
  assert.equal(systemdWord("/usr/bin/clawauth"), "/usr/bin/clawauth");
  assert.equal(systemdWord("--v8-flags=--no-lazy,--x"), "--v8-flags=--no-lazy,--x");
  assert.equal(systemdWord("50%"), "50%%");
  assert.equal(systemdWord("$HOME/x"), "$$HOME/x");
  assert.equal(systemdWord("/a b/c"), '"/a b/c"');
  assert.equal(systemdWord('say "hi"\\'), '"say \\"hi\\"\\\\"');
});
