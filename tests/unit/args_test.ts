/**
 * Unit tests of the command line: lib/args.ts parses flags, and the command
 * table resolves OpenClaw's spellings (docs/commands.md).
 */

import assert from "node:assert/strict";
import { hoistGlobalFlags, parseArgs } from "../../lib/args.ts";
import { flag } from "../../lib/flags.ts";
import { safeText } from "../../lib/output/output.ts";
import { findCommand } from "../../lib/commands/index.ts";
import { parseDuration } from "../../lib/duration.ts";
import { ClawauthError } from "../../lib/errors.ts";

const SPECS = {
  provider: flag.string(),
  check: flag.boolean(),
  tag: flag.list(flag.string()),
  verbose: { type: "boolean", short: "v" },
} as const;

const usage = (name: RegExp) => (error: unknown) =>
  error instanceof ClawauthError && error.exitCode === 64 &&
  name.test(error.message) && /clawauth status --help/.test(error.hint ?? "");

Deno.test("parseArgs reads --flag value, --flag=value, booleans, short aliases and global flags", () => {
  const args = parseArgs(
    [
      "get",
      "--provider",
      "anthropic",
      "--check",
      "-v",
      "--state-dir=/tmp/x",
      "--agent",
      "work",
      "-h",
      "more",
    ],
    SPECS,
    "status",
    { positionals: ["ACTION", "WHAT"] },
  );
  assert.equal(args.provider, "anthropic");
  assert.equal(args.check, true);
  assert.equal(args.verbose, true);
  assert.equal(args["state-dir"], "/tmp/x");
  assert.equal(args.agent, "work");
  assert.equal(args.store, undefined);
  assert.equal(args.help, true);
  assert.deepEqual(args.positionals, ["get", "more"]);
  assert.deepEqual(args.tag, []);
  assert.equal(args.rest, undefined);
});

Deno.test("parseArgs keeps the last value of a flag, or all of a repeatable one, and = inside a value", () => {
  const args = parseArgs(
    ["--provider", "a", "--provider=b", "--tag", "x", "--tag=y=z"],
    SPECS,
    "status",
  );
  assert.equal(args.provider, "b");
  assert.deepEqual(args.tag, ["x", "y=z"]);
  assert.equal(args.check, false);
});

Deno.test("parseArgs stops at -- and treats a lone - as a positional", () => {
  const args = parseArgs(
    ["-", "--check", "--", "cmd", "--provider", "x"],
    SPECS,
    "status",
    { positionals: ["FILE"] },
  );
  assert.deepEqual(args.positionals, ["-"]);
  assert.deepEqual(args.rest, ["cmd", "--provider", "x"]);
  assert.equal(args.provider, undefined);
});

Deno.test("parseArgs: unknown flags, a missing value and a value on a boolean are usage errors naming the flag", () => {
  assert.throws(() => parseArgs(["--bogus"], SPECS, "status"), usage(/--bogus/));
  assert.throws(
    () => parseArgs(["--bogus=secret"], SPECS, "status"),
    (e) => usage(/--bogus/)(e) && !(e as Error).message.includes("secret"),
  );
  assert.throws(() => parseArgs(["-x"], SPECS, "status"), usage(/-x/));
  assert.throws(() => parseArgs(["--provider"], SPECS, "status"), usage(/--provider/));
  assert.throws(() => parseArgs(["--check=yes"], SPECS, "status"), usage(/--check/));
  assert.throws(() => parseArgs(["--constructor"], SPECS, "status"), usage(/--constructor/));
  assert.throws(() => parseArgs(["--__proto__"], SPECS, "status"), usage(/--__proto__/));
  assert.throws(() => parseArgs(["-toString"], SPECS, "status"), usage(/-toString/));
});

Deno.test("safeText replaces control and bidi characters and shortens long text", () => {
  assert.equal(safeText("a\x1b[31mb\nc\u0085"), "a\ufffd[31mb\ufffdc\ufffd");
  assert.equal(safeText("evil\u202egpj.exe"), "evil\ufffdgpj.exe");
  assert.equal(safeText("x".repeat(100), 10), `${"x".repeat(10)}…`);
});

Deno.test("findCommand resolves commands and OpenClaw's spellings, consuming their words", () => {
  assert.deepEqual(findCommand(["status", "--json"]), {
    name: "status",
    rest: ["--json"],
  });
  assert.deepEqual(findCommand(["models", "status", "--check"]), {
    name: "status",
    rest: ["--check"],
  });
  assert.deepEqual(findCommand(["models", "auth", "order", "get"]), {
    name: "order",
    rest: ["get"],
  });
  assert.deepEqual(findCommand(["models", "auth", "paste-token", "--provider", "x"]), {
    name: "paste-token",
    rest: ["--provider", "x"],
  });
  assert.deepEqual(findCommand(["logout", "anthropic:a"]), {
    name: "remove",
    rest: ["anthropic:a"],
  });
  assert.equal(findCommand(["frobnicate"]), undefined);
  assert.equal(findCommand(["models"]), undefined);
  assert.equal(findCommand(["toString"]), undefined);
});

Deno.test("durations: 90s, 5m, 12h, 365d, 2w and bare seconds; anything else is undefined", () => {
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("12h"), 43_200_000);
  assert.equal(parseDuration("365d"), 365 * 86_400_000);
  assert.equal(parseDuration("2w"), 14 * 86_400_000);
  assert.equal(parseDuration("30"), 30_000);
  for (const bad of ["", "d", "5x", "-5m", "1.5h", "5 m m", "1e3"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

Deno.test("hoistGlobalFlags: global flags before the command move behind it, ahead of --", () => {
  assert.deepEqual(hoistGlobalFlags(["--agent", "ci", "token", "--provider", "x"]), [
    "token",
    "--provider",
    "x",
    "--agent",
    "ci",
  ]);
  assert.deepEqual(hoistGlobalFlags(["--state-dir=/s", "exec", "--", "env", "--agent", "x"]), [
    "exec",
    "--state-dir=/s",
    "--",
    "env",
    "--agent",
    "x",
  ]);
  assert.deepEqual(hoistGlobalFlags(["--version"]), ["--version"]);
  assert.deepEqual(hoistGlobalFlags(["status", "--agent", "a"]), ["status", "--agent", "a"]);
});
