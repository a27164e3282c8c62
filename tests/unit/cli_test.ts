/**
 * The command line itself, in-process through `main(ctx, argv)` (docs/commands.md):
 * top-level help, `--version`, `--help` on every command, usage errors
 * (exit 64) and global flags before the command.
 */

import assert from "node:assert/strict";
import { main } from "../../main.ts";
import { COMMANDS } from "../../lib/commands/index.ts";
import { VERSION } from "../../lib/version.ts";
import { fakeContext, inProcessState, type MainResult } from "../fake_context.ts";

/** Runs `main` without a state dir (nothing here may need one). */
async function bare(argv: string[]): Promise<MainResult> {
  const ctx = fakeContext();
  const code = await main(ctx, argv);
  return { code, stdout: ctx.stdout(), stderr: ctx.stderr(), ctx };
}

/** One sentence on stderr naming the problem, then the pointer to `help`. */
function assertUsage(result: MainResult, help: string): void {
  assert.equal(result.code, 64, result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, result.stderr);
  assert.match(lines[0], /^clawauth: \S.*\.$/);
  assert.equal(lines[1], `See: ${help}`);
}

Deno.test("clawauth without a command prints the command list on stdout, nothing on stderr, and exits 0", async () => {
  const result = await bare([]);
  assert.equal(result.code, 0);
  assert.equal(result.stderr, "");
  assert.match(result.stdout, new RegExp(`^clawauth ${VERSION.replaceAll(".", "\\.")}: `));
  for (const name of Object.keys(COMMANDS)) {
    assert.match(result.stdout, new RegExp(`^  ${name} +\\S`, "m"), name);
  }
});

Deno.test("global flags and no command print the command list and exit 0, like no arguments", async () => {
  const none = await bare([]);
  for (const argv of [["--state-dir", "/nonexistent"], ["--agent=ci", "--store", "json"]]) {
    const result = await bare(argv);
    assert.equal(result.code, 0, argv.join(" "));
    assert.equal(result.stderr, "");
    assert.equal(result.stdout, none.stdout);
  }
});

Deno.test("--help, -h and help print the command list with the aliases and exit 0", async () => {
  const results = await Promise.all([bare(["--help"]), bare(["-h"]), bare(["help"])]);
  for (const result of results) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.equal(result.stdout, results[0].stdout, "the three spellings print the same");
  }
  assert.match(results[0].stdout, /^Aliases: .*logout → remove/m);
  assert.match(results[0].stdout, /^Usage: clawauth COMMAND \[FLAGS\]$/m);
});

Deno.test("--help and -h on every command and alias print its usage, exit 0 and write nothing", async () => {
  await using state = await inProcessState();
  const lines = [
    ...Object.keys(COMMANDS).map((name) => [name]),
    ["logout"],
    ["models", "status"],
    ["models", "auth", "paste-token"],
    ["models", "auth", "order"],
  ];
  for (const words of lines) {
    for (const flag of ["--help", "-h"]) {
      const result = await state.run([...words, flag]);
      const what = `${words.join(" ")} ${flag}`;
      assert.equal(result.code, 0, `${what}: ${result.stderr}`);
      assert.match(result.stdout, /^Usage: clawauth /, what);
      assert.equal(result.stderr, "", what);
    }
  }
  assert.throws(() => Deno.statSync(state.dir), Deno.errors.NotFound, "no state dir was made");
});

Deno.test("--help after -- belongs to the child command of exec, not to clawauth", async () => {
  await using state = await inProcessState();
  const result = await state.run(["exec", "--provider", "anthropic", "--", "tool", "--help"]);
  // exec ran (and found no credential) instead of printing its own usage.
  assert.equal(result.code, 77, result.stderr);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /^clawauth: No credential for provider anthropic\.\nRun: /);
});

Deno.test("--version and -V print the version and the build target and exit 0", async () => {
  for (const flag of ["--version", "-V"]) {
    const result = await bare([flag]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `clawauth ${VERSION} (${Deno.build.target})\n`);
    assert.equal(result.stderr, "");
  }
});

Deno.test("an unknown command exits 64 naming it, with a pointer to clawauth --help", async () => {
  const [one, two] = await Promise.all([bare(["frobnicate"]), bare(["models", "frobnicate"])]);
  assertUsage(one, "clawauth --help");
  assert.match(one.stderr, /Unknown command frobnicate\./);
  assertUsage(two, "clawauth --help");
  assert.match(two.stderr, /Unknown command models frobnicate\./);
});

Deno.test("an unknown command's name is printed without terminal control characters", async () => {
  const result = await bare(["evil\x1b]0;owned\x07"]);
  assertUsage(result, "clawauth --help");
  assert.ok(!result.stderr.includes("\x1b"), JSON.stringify(result.stderr));
  assert.ok(!result.stderr.includes("\x07"), JSON.stringify(result.stderr));
});

Deno.test("an unknown flag, a flag without its value or a value on a boolean flag exits 64 pointing at the command's help", async () => {
  await using state = await inProcessState();
  const cases: [string[], string, RegExp][] = [
    [["status", "--bogus"], "clawauth status --help", /--bogus/],
    [["list", "-x"], "clawauth list --help", /-x/],
    [["status", "--provider"], "clawauth status --help", /--provider/],
    [["status", "--check=yes"], "clawauth status --help", /--check/],
    [["token", "--provider"], "clawauth token --help", /--provider/],
  ];
  for (const [argv, help, names] of cases) {
    const result = await state.run(argv);
    assertUsage(result, help);
    assert.match(result.stderr.split("\n")[0], names, argv.join(" "));
  }
});

Deno.test("global flags may come before the command: --agent ID COMMAND reads and writes that agent", async () => {
  await using state = await inProcessState();
  const secret = "sk-proj-" + "z".repeat(40);
  const stored = await state.run(["--agent", "ci", "paste-token", "--provider", "openai"], {
    stdin: secret,
  });
  assert.equal(stored.code, 0, stored.stderr);
  assert.match(stored.stdout, /agent ci/);
  const [inCi, inMain] = await Promise.all([
    state.run(["--agent=ci", "token", "--provider", "openai"]),
    state.run(["token", "--provider", "openai"]),
  ]);
  assert.deepEqual([inCi.code, inCi.stdout, inCi.stderr], [0, `${secret}\n`, ""]);
  assert.equal(inMain.code, 77, "the main agent has no such profile");
  assert.equal(inMain.stdout, "");
});

Deno.test("--state-dir beats $OPENCLAW_STATE_DIR, which is used without it", async () => {
  await using state = await inProcessState();
  await using other = await inProcessState();
  other.writeStore({
    version: 1,
    profiles: { "openai:o": { type: "api_key", provider: "openai", key: "sk-other" } },
  });
  const flag = await state.run(["status", "--json"], { env: { OPENCLAW_STATE_DIR: other.dir } });
  assert.equal(JSON.parse(flag.stdout).stateDir, state.dir);
  assert.deepEqual(JSON.parse(flag.stdout).profiles, []);
  const ctx = fakeContext({ env: { OPENCLAW_STATE_DIR: other.dir } });
  assert.equal(await main(ctx, ["status", "--json"]), 0, ctx.stderr());
  const json = JSON.parse(ctx.stdout());
  assert.equal(json.stateDir, other.dir);
  assert.deepEqual(json.profiles.map((p: { id: string }) => p.id), ["openai:o"]);
});

Deno.test("$CLAWAUTH_AGENT picks the agent when --agent is not given; --agent beats it", async () => {
  await using state = await inProcessState();
  state.writeStore({
    version: 1,
    profiles: { "openai:w": { type: "api_key", provider: "openai", key: "sk-work" } },
  }, "work");
  const [env, flag] = await Promise.all([
    state.run(["status", "--json"], { env: { CLAWAUTH_AGENT: "work" } }),
    state.run(["status", "--json", "--agent", "main"], { env: { CLAWAUTH_AGENT: "work" } }),
  ]);
  assert.equal(JSON.parse(env.stdout).agent, "work");
  assert.deepEqual(JSON.parse(env.stdout).profiles.map((p: { id: string }) => p.id), ["openai:w"]);
  assert.equal(JSON.parse(flag.stdout).agent, "main");
  assert.deepEqual(JSON.parse(flag.stdout).profiles, []);
});

Deno.test("a malformed agent id is a usage error (exit 64) and creates nothing", async () => {
  await using state = await inProcessState();
  for (const agent of ["Main", "-x", "a/b", "../up", "a".repeat(65)]) {
    const result = await state.run(["status", "--agent", agent]);
    assert.equal(result.code, 64, `${agent}: ${result.stderr}`);
    assert.equal(result.stdout, "");
  }
  assert.throws(() => Deno.statSync(state.dir), Deno.errors.NotFound);
});

Deno.test("without a home dir and without --state-dir or $OPENCLAW_STATE_DIR, a command exits 64 naming the fix", async () => {
  const result = await bare(["status"]);
  assert.equal(result.code, 64, result.stderr);
  assert.match(result.stderr, /--state-dir|OPENCLAW_STATE_DIR/);
  assert.equal(result.stdout, "");
});
