/**
 * Secrets typed on a real terminal (a pty from tests/fixtures/pty_run.py)
 * are read without echo.
 */

import assert from "node:assert/strict";
import { CLI_COMMAND, cliEnv, ROOT } from "../../scripts/cli_runner.ts";
import { fakeSecret, python, type TempState, tempState } from "../helpers.ts";

const ignore = python === undefined || Deno.build.os === "windows";

/** Runs the CLI on a pty, types `line` once "input hidden" shows, returns what the terminal showed. */
async function onTerminal(
  state: TempState,
  args: string[],
  line: string,
  extraPath?: string,
): Promise<{ output: string; code: number }> {
  const env = cliEnv({ HOME: state.home, OPENCLAW_STATE_DIR: state.dir });
  const { stdout } = await new Deno.Command(python!, {
    args: [`${ROOT}/tests/fixtures/pty_run.py`, "input hidden", line, ...CLI_COMMAND, ...args],
    cwd: ROOT,
    clearEnv: true,
    env: extraPath ? { ...env, PATH: `${extraPath}:${env.PATH}` } : env,
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** `paste-token --provider anthropic` on a pty, typing `line` at the hidden prompt. */
function pasteOnTerminal(
  state: TempState,
  line: string,
): Promise<{ output: string; code: number }> {
  return onTerminal(state, ["paste-token", "--provider", "anthropic"], line);
}

function storedToken(state: TempState, id: string): { type: string; token: string } {
  return (state.store() as { profiles: Record<string, { type: string; token: string }> })
    .profiles[id];
}

Deno.test({
  name: "paste-token on a terminal reads the secret without echoing it",
  ignore,
  async fn() {
    await using state = await tempState();
    const secret = fakeSecret("sk-ant-oat01-");
    const { output, code } = await pasteOnTerminal(state, secret);
    assert.equal(code, 0, output);
    assert.match(output, /input hidden/);
    assert.match(output, /Stored anthropic:default/);
    assert.ok(!output.includes(secret.slice(0, 20)), `the terminal showed the secret: ${output}`);
    assert.equal(storedToken(state, "anthropic:default").token, secret);
  },
});

Deno.test({
  name: "paste-token on a terminal: Ctrl-C cancels with exit 130 and stores nothing, as in login",
  ignore,
  async fn() {
    await using state = await tempState();
    const secret = fakeSecret("sk-ant-oat01-");
    const { output, code } = await pasteOnTerminal(state, `${secret.slice(0, 20)}\x03`);
    assert.equal(code, 130, output);
    assert.match(output, /The paste was cancelled; nothing was stored/);
    assert.throws(() => state.storeText(), Deno.errors.NotFound);
  },
});

Deno.test({
  name:
    "setup-token on a terminal runs `claude setup-token` from PATH, then reads the token hidden",
  ignore,
  async fn() {
    await using state = await tempState();
    const bin = `${state.dir}/../bin`;
    Deno.mkdirSync(bin, { recursive: true });
    // A stand-in for Claude Code that shows it ran, with its arguments.
    Deno.writeTextFileSync(`${bin}/claude`, '#!/bin/sh\necho "fake claude ran: $*"\n', {
      mode: 0o755,
    });
    const secret = fakeSecret("sk-ant-oat01-");
    const { output, code } = await onTerminal(
      state,
      ["setup-token", "--provider", "anthropic"],
      secret,
      bin,
    );
    assert.equal(code, 0, output);
    assert.match(output, /fake claude ran: setup-token/);
    assert.ok(!output.includes(secret.slice(0, 20)));
    assert.equal(storedToken(state, "anthropic:default").type, "token");
    assert.equal(storedToken(state, "anthropic:default").token, secret);
  },
});

/**
 * Runs the CLI on a pty with colour allowed (no NO_COLOR unless `env` sets
 * it), one of its streams sent to `file` instead; returns what the terminal
 * showed.
 */
async function oneStreamOnTerminal(
  state: TempState,
  run: { args: string[]; toFile: "stdout" | "stderr"; file: string; env?: Record<string, string> },
): Promise<{ output: string; code: number }> {
  const { NO_COLOR: _, ...env } = cliEnv({ HOME: state.home, OPENCLAW_STATE_DIR: state.dir });
  const fd = run.toFile === "stdout" ? 1 : 2;
  const { stdout } = await new Deno.Command(python!, {
    args: [
      `${ROOT}/tests/fixtures/pty_run.py`,
      "a prompt that never shows",
      "",
      // sh's $0 is the file; "$@" the CLI.
      ...["sh", "-c", `exec "$@" ${fd}>"$0"`, run.file],
      ...CLI_COMMAND,
      ...run.args,
    ],
    cwd: ROOT,
    clearEnv: true,
    env: { ...env, ...run.env },
    stdout: "piped",
  }).output();
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test({
  name:
    "warnings are coloured by whether stderr is a terminal: none in a log stderr goes to while stdout is a terminal, and none with NO_COLOR",
  ignore,
  async fn() {
    await using state = await tempState();
    // A malformed openclaw.json: `order get` warns and goes on.
    state.writeFile("openclaw.json", '{auth: {order: {anthropic: ["anthropic:a"');
    const log = `${state.home}/err.log`;
    const toLog = await oneStreamOnTerminal(state, {
      args: ["order", "get"],
      toFile: "stderr",
      file: log,
    });
    assert.equal(toLog.code, 0, toLog.output);
    const logged = Deno.readTextFileSync(log);
    assert.match(logged, /^warning: .*openclaw\.json cannot be read/);
    assert.ok(!logged.includes("\x1b"), `ANSI codes in the log: ${JSON.stringify(logged)}`);

    const out = `${state.home}/out.txt`;
    const shown = await oneStreamOnTerminal(state, {
      args: ["order", "get"],
      toFile: "stdout",
      file: out,
    });
    assert.equal(shown.code, 0, shown.output);
    assert.ok(shown.output.includes("\x1b[33mwarning:\x1b[0m "), shown.output);
    assert.match(shown.output, /openclaw\.json cannot be read/);
    assert.ok(!Deno.readTextFileSync(out).includes("\x1b"));

    const plain = await oneStreamOnTerminal(state, {
      args: ["order", "get"],
      toFile: "stdout",
      file: out,
      env: { NO_COLOR: "1" },
    });
    assert.match(plain.output, /warning: .*openclaw\.json cannot be read/);
    assert.ok(!plain.output.includes("\x1b"), `ANSI codes with NO_COLOR: ${plain.output}`);
  },
});
