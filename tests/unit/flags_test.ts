/**
 * Unit tests of flag kinds and positional specs (lib/flags.ts, lib/args.ts):
 * the parser refuses a malformed value or a wrong number of arguments in one
 * wording (exit 64, naming the flag, with the `--help` pointer), returns
 * values typed from the flag table, and every command's table uses the kinds.
 */

import assert from "node:assert/strict";
import { type Args, parseArgs } from "../../lib/args.ts";
import { defineCommand } from "../../lib/command.ts";
import { COMMANDS } from "../../lib/commands/index.ts";
import { ClawauthError } from "../../lib/errors.ts";
import { flag } from "../../lib/flags.ts";

/** A usage error of `command` whose message is exactly `message`. */
const usage = (command: string, message: string) => (error: unknown) => {
  assert.ok(error instanceof ClawauthError, String(error));
  assert.equal(error.exitCode, 64);
  assert.equal(error.message, message);
  assert.equal(error.hint, `See: clawauth ${command} --help`);
  return true;
};

const FLAGS = {
  provider: flag.provider(),
  profile: flag.profileId(),
  name: flag.profileName(),
  "min-valid": flag.duration({ default: "5m" }),
  "expires-in": flag.duration({ positive: true, max: "36500d" }),
  reason: flag.oneOf(["rate_limit", "auth"]),
  port: flag.integer(1, 65535),
  tag: flag.list(flag.provider()),
};

Deno.test("flag kinds read valid values into typed ones, defaults included", () => {
  const args = parseArgs(
    [
      "--provider=openai-codex",
      "--profile",
      "anthropic:me@example.com",
      "--name",
      "work",
      "--expires-in",
      "365d",
      "--reason",
      "auth",
      "--port",
      "1455",
      "--tag",
      "a",
      "--tag",
      "b.c",
    ],
    FLAGS,
    "x",
  );
  assert.equal(args.provider, "openai-codex");
  assert.equal(args.profile, "anthropic:me@example.com");
  assert.equal(args.name, "work");
  assert.equal(args["min-valid"], 5 * 60_000, "the default, in ms");
  assert.equal(args["expires-in"], 365 * 86_400_000);
  assert.equal(args.reason, "auth");
  assert.equal(args.port, 1455);
  assert.deepEqual(args.tag, ["a", "b.c"]);
  assert.equal(parseArgs(["--min-valid", "90"], FLAGS, "x")["min-valid"], 90_000, "bare seconds");
  assert.equal(parseArgs(["--min-valid", "0"], FLAGS, "x")["min-valid"], 0);
  const none = parseArgs([], FLAGS, "x");
  assert.equal(none.provider, undefined);
  assert.equal(none["expires-in"], undefined);
  assert.deepEqual(none.tag, []);
});

Deno.test("a value that is not of its flag's kind is refused in one wording naming the flag and the value", () => {
  const cases: [string[], string][] = [
    [["--provider", "Bad!"], "--provider Bad! is not a provider id (a-z, 0-9, ., _ and -)."],
    [
      ["--tag", "ok", "--tag", "__Proto__"],
      "--tag __Proto__ is not a provider id (a-z, 0-9, ., _ and -).",
    ],
    [["--profile", "no-colon"], "--profile no-colon is not a profile id such as anthropic:work."],
    [
      ["--profile", "anthropic:"],
      "--profile anthropic: is not a profile id such as anthropic:work.",
    ],
    [
      ["--name", "a b"],
      "--name a b is not a profile name (1-128 characters of A-Z a-z 0-9 . _ @ + -).",
    ],
    [["--min-valid", "5x"], "--min-valid 5x is not a duration such as 90s, 5m, 12h or 30d."],
    [["--min-valid=-5m"], "--min-valid -5m is not a duration such as 90s, 5m, 12h or 30d."],
    [
      ["--expires-in", "0"],
      "--expires-in 0 is not a duration (above 0, at most 36500d) such as 90s, 5m, 12h or 30d.",
    ],
    [
      ["--expires-in", "999999999999d"],
      "--expires-in 999999999999d is not a duration (above 0, at most 36500d) such as 90s, 5m, 12h or 30d.",
    ],
    [["--reason", "overloaded"], "--reason overloaded is not one of rate_limit, auth."],
    [["--reason", "toString"], "--reason toString is not one of rate_limit, auth."],
    [["--port", "0"], "--port 0 is not a whole number from 1 to 65535."],
    [["--port", "1e3"], "--port 1e3 is not a whole number from 1 to 65535."],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseArgs(argv, FLAGS, "x"), usage("x", message), argv.join(" "));
  }
});

Deno.test("a bad value is shown as one safe line, cut short", () => {
  assert.throws(
    () => parseArgs(["--provider", `a\u001b[2J${"z".repeat(100)}`], FLAGS, "x"),
    (error) => {
      const message = (error as Error).message;
      assert.ok(!message.includes("\u001b"), message);
      assert.ok(!message.includes("z".repeat(65)), message);
      return error instanceof ClawauthError && error.exitCode === 64;
    },
  );
});

Deno.test("positionals: none, exactly one, optional and one or more, each refused in one wording, never echoed", () => {
  const secret = "sk-ant-oat01-SECRET";
  assert.throws(
    () => parseArgs([secret], {}, "list"),
    usage("list", "list takes no arguments besides its flags."),
  );
  assert.throws(
    () => parseArgs([secret], {}, "paste-token", { argumentNote: "pipe it on stdin" }),
    usage("paste-token", "paste-token takes no arguments besides its flags: pipe it on stdin."),
  );
  for (const argv of [[], ["anthropic:a", secret]]) {
    assert.throws(
      () => parseArgs(argv, {}, "remove", { positionals: ["PROFILE_ID"] }),
      usage("remove", "remove takes exactly one PROFILE_ID."),
    );
  }
  const one = parseArgs(["anthropic:a"], {}, "remove", { positionals: ["PROFILE_ID"] });
  const [id] = one.positionals;
  assert.equal(id, "anthropic:a");
  const optional = { positionals: ["NAME", "ID?"] } as const;
  assert.deepEqual(parseArgs(["a"], {}, "x", optional).positionals, ["a"]);
  assert.deepEqual(parseArgs(["a", "b"], {}, "x", optional).positionals, ["a", "b"]);
  assert.throws(
    () => parseArgs(["a", "b", secret], {}, "x", optional),
    usage("x", "x takes NAME [ID]."),
  );
  const many = { positionals: ["PROFILE_ID…"] } as const;
  assert.deepEqual(parseArgs(["a", "b", "c"], {}, "x", many).positionals, ["a", "b", "c"]);
  assert.throws(() => parseArgs([], {}, "x", many), usage("x", "x takes one or more PROFILE_ID."));
});

Deno.test("positionals: a choice of action, each with its own words; a missing or unknown one lists them", () => {
  const positionals = {
    choose: "action",
    from: { get: [], set: ["PROFILE_ID…"], clear: [] },
  } as const;
  const set = parseArgs(["set", "a:b", "a:c"], {}, "order", { positionals });
  assert.equal(set.action, "set");
  if (set.action === "set") assert.deepEqual(set.positionals, ["a:b", "a:c"]);
  assert.deepEqual(parseArgs(["get"], {}, "order", { positionals }).positionals, []);
  assert.throws(
    () => parseArgs([], {}, "order", { positionals }),
    usage("order", "order needs an action: get, set, clear."),
  );
  assert.throws(
    () => parseArgs(["frob"], {}, "order", { positionals }),
    usage("order", "Unknown order action frob; use one of: get, set, clear."),
  );
  assert.throws(
    () => parseArgs(["constructor"], {}, "order", { positionals }),
    usage("order", "Unknown order action constructor; use one of: get, set, clear."),
  );
  assert.throws(
    () => parseArgs(["set"], {}, "order", { positionals }),
    usage("order", "order set takes one or more PROFILE_ID."),
  );
  assert.throws(
    () => parseArgs(["get", "x"], {}, "order", { positionals }),
    usage("order", "order get takes no arguments besides its flags."),
  );
  assert.throws(
    () => parseArgs([], {}, "connect", { positionals: { choose: "tool", from: { git: [] } } }),
    usage("connect", "connect needs a tool: git."),
  );
});

Deno.test("the parse result is typed from the flag table: deno check refuses an undeclared flag or a wrong type", () => {
  const command = defineCommand({
    flags: { json: flag.boolean(), "min-valid": flag.duration({ default: "5m" }) },
    positionals: ["PROFILE_ID"],
    help: "",
    run(_ctx, args) {
      const ms: number = args["min-valid"];
      const json: boolean = args.json;
      const id: string = args.positionals[0];
      const agent: string | undefined = args.agent;
      // @ts-expect-error: not declared
      args.provider;
      // @ts-expect-error: a duration is a number of milliseconds, not text
      const text: string = args["min-valid"];
      // @ts-expect-error: exactly one positional
      args.positionals[1];
      return Promise.resolve(ms + Number(json) + id.length + (agent?.length ?? 0) + text.length);
    },
  });
  const args: Args<typeof command.flags, readonly ["PROFILE_ID"]> = parseArgs(
    ["anthropic:a", "--json"],
    command.flags,
    "x",
    command,
  );
  assert.equal(args.json, true);
});

Deno.test("every command's flags use the kinds: --provider, --profile, --min-valid and --expires-in are refused alike", async () => {
  const expected: Record<string, RegExp> = {
    provider: /^--provider Bad! is not a provider id/,
    profile: /^--profile Bad! is not a profile (id|name)/,
    "min-valid": /^--min-valid Bad! is not a duration such as/,
    "expires-in": /^--expires-in Bad! is not a duration/,
  };
  const seen: Record<string, number> = {};
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const { command } = await entry.load();
    for (const flagName of Object.keys(command.flags)) {
      if (!Object.hasOwn(expected, flagName)) continue;
      seen[flagName] = (seen[flagName] ?? 0) + 1;
      assert.throws(
        () => parseArgs([`--${flagName}`, "Bad!"], command.flags, name, command),
        (error) =>
          error instanceof ClawauthError && error.exitCode === 64 &&
          expected[flagName].test(error.message) && error.hint === `See: clawauth ${name} --help`,
        `${name} --${flagName}`,
      );
    }
  }
  // provider: token, status, list, order, exec, login, paste-token, setup-token, connect, git-, kube-credential.
  assert.ok(seen.provider >= 11, JSON.stringify(seen));
  assert.ok(seen["min-valid"] >= 6, JSON.stringify(seen));
});
