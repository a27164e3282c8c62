import assert from "node:assert/strict";
import { ROOT } from "../../scripts/cli_runner.ts";
import { compileArgs, TARGETS } from "../../scripts/compile.ts";
import { CLI_PERMISSIONS, CLI_RUNTIME_FLAGS, CLI_V8_FLAGS } from "../../scripts/permissions.ts";

async function compileScript(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}/scripts/compile.ts`, ...args],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("compile --all builds every release target with exactly the CLI's permissions, V8 and runtime flags", async () => {
  const result = await compileScript(["--all", "--dry-run", "--out", "dist"]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.deepEqual(
    lines.map((line) => line.match(/--target (\S+)/)?.[1]),
    [
      "x86_64-unknown-linux-gnu",
      "aarch64-unknown-linux-gnu",
      "x86_64-apple-darwin",
      "aarch64-apple-darwin",
      "x86_64-pc-windows-msvc",
    ],
  );
  for (const line of lines) {
    const flags = line.split(" ").filter((word) => word.startsWith("--allow") || word === "-A");
    assert.deepEqual(flags, [...CLI_PERMISSIONS], line);
    const v8 = line.split(" ").filter((word) => word.startsWith("--v8-flags"));
    assert.deepEqual(v8, [...CLI_V8_FLAGS], line);
    const unstable = line.split(" ").filter((word) => word.startsWith("--unstable"));
    assert.deepEqual(unstable, [...CLI_RUNTIME_FLAGS], line);
  }
  assert.match(lines[4], /--output dist\/clawauth-x86_64-pc-windows-msvc\.exe /);
  // Commands and the OAuth code are imported by computed paths (lib/lazy.ts): each must be included.
  for (
    const module of [
      "lib/commands/token.ts",
      "lib/commands/login.ts",
      "lib/oauth/oauth.ts",
      "lib/json/json5.ts",
    ]
  ) {
    assert.ok(lines.every((line) => line.includes(`--include ${ROOT}/${module} `)), module);
  }
  assert.ok(lines.every((line) => line.endsWith("/main.ts")));
});

Deno.test("compile refuses DENORT_BIN with --all (one runtime fits one target) and unknown targets", async () => {
  const all = await compileScript(["--all", "--dry-run"], { DENORT_BIN: "/nonexistent/denort" });
  assert.equal(all.code, 64);
  assert.match(all.stderr, /DENORT_BIN/);
  const unknown = await compileScript(["--target", "sparc-sun-solaris", "--dry-run"]);
  assert.equal(unknown.code, 64);
  assert.equal(compileArgs(TARGETS[0], "out").includes("--target"), true);
});
