import assert from "node:assert/strict";
import { CLI_COMMAND, cliEnv, ROOT } from "../scripts/cli_runner.ts";
import { fakeSecret, tempState } from "./helpers.ts";

const python = ["/usr/bin/python3", "/usr/local/bin/python3"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

Deno.test({
  name: "paste-token on a terminal reads the secret without echoing it",
  ignore: python === undefined || Deno.build.os === "windows",
  async fn() {
    await using state = await tempState();
    const secret = fakeSecret("sk-ant-oat01-");
    const { stdout } = await new Deno.Command(python!, {
      args: [
        `${ROOT}/tests/fixtures/pty_run.py`,
        "input hidden",
        secret,
        ...CLI_COMMAND,
        "paste-token",
        "--provider",
        "anthropic",
      ],
      cwd: ROOT,
      clearEnv: true,
      env: cliEnv({ HOME: `${state.dir}/../home`, OPENCLAW_STATE_DIR: state.dir }),
      stdout: "piped",
    }).output();
    const { output, code } = JSON.parse(new TextDecoder().decode(stdout));
    assert.equal(code, 0, output);
    assert.match(output, /input hidden/);
    assert.match(output, /Stored anthropic:default/);
    assert.ok(!output.includes(secret.slice(0, 20)), `the terminal showed the secret: ${output}`);
    assert.equal(
      (state.store() as { profiles: Record<string, { token: string }> })
        .profiles["anthropic:default"].token,
      secret,
    );
  },
});

Deno.test({
  name:
    "setup-token on a terminal runs `claude setup-token` from PATH, then reads the token hidden",
  ignore: python === undefined || Deno.build.os === "windows",
  async fn() {
    await using state = await tempState();
    const bin = `${state.dir}/../bin`;
    Deno.mkdirSync(bin, { recursive: true });
    // A stand-in for Claude Code that shows it ran, with its arguments.
    Deno.writeTextFileSync(`${bin}/claude`, '#!/bin/sh\necho "fake claude ran: $*"\n', {
      mode: 0o755,
    });
    const secret = fakeSecret("sk-ant-oat01-");
    const env = cliEnv({ HOME: `${state.dir}/../home`, OPENCLAW_STATE_DIR: state.dir });
    const { stdout } = await new Deno.Command(python!, {
      args: [
        `${ROOT}/tests/fixtures/pty_run.py`,
        "input hidden",
        secret,
        ...CLI_COMMAND,
        "setup-token",
        "--provider",
        "anthropic",
      ],
      cwd: ROOT,
      clearEnv: true,
      env: { ...env, PATH: `${bin}:${env.PATH}` },
      stdout: "piped",
    }).output();
    const { output, code } = JSON.parse(new TextDecoder().decode(stdout));
    assert.equal(code, 0, output);
    assert.match(output, /fake claude ran: setup-token/);
    assert.ok(!output.includes(secret.slice(0, 20)));
    const stored =
      (state.store() as { profiles: Record<string, { type: string; expires: number }> }).profiles;
    assert.equal(stored["anthropic:default"].type, "token");
  },
});
