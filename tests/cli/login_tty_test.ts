/**
 * The login's waiting screen on a real terminal (a pty from
 * tests/fixtures/pty_session.py): QR code, spinner with elapsed and
 * remaining time, the other ways, a paste read without echo, Ctrl-C.
 */

import assert from "node:assert/strict";
import { CLI_COMMAND, cliEnv, ROOT } from "../../scripts/cli_runner.ts";
import { python, type TempState, tempState } from "../helpers.ts";
import { idpFor, profilesOf } from "../oauth_helpers.ts";

const ignore = python === undefined || Deno.build.os === "windows";
const URL_LINE = /\n {2}(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)\r?\n/;

/** A CLI on a terminal of `columns`×`rows`: what it showed so far, typing, its exit. */
function onTerminal(state: TempState, args: string[], columns: number, rows: number) {
  const child = new Deno.Command(python!, {
    args: [
      `${ROOT}/tests/fixtures/pty_session.py`,
      String(columns),
      String(rows),
      ...CLI_COMMAND,
      ...args,
    ],
    cwd: ROOT,
    clearEnv: true,
    env: {
      ...cliEnv({ HOME: state.home, OPENCLAW_STATE_DIR: state.dir }),
      TERM: "xterm",
    },
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  let shown = "";
  const waiters = new Set<() => void>();
  const done = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      shown += chunk;
      for (const waiter of waiters) waiter();
    }
    await child.status;
  })();
  return {
    shown: () => shown,
    /** Resolves once the terminal has shown a match of `pattern`; fails if the session ends first. */
    waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(shown);
          if (match) {
            waiters.delete(check);
            resolve(match);
          } else if (/\[pty exit -?\d+\]\n$/.test(shown)) {
            waiters.delete(check);
            reject(new Error(`ended without ${pattern}:\n${shown}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    type: (text: string) => writer.write(new TextEncoder().encode(`${JSON.stringify(text)}\n`)),
    async exit(): Promise<number> {
      await done;
      await writer.close().catch(() => {});
      return Number(/\[pty exit (-?\d+)\]\n$/.exec(shown)?.[1]);
    },
  };
}

Deno.test({
  name:
    "login on a terminal: QR code, spinner with elapsed and remaining time, paste read without echo",
  ignore,
  async fn() {
    await using state = await tempState();
    await using idp = await idpFor(state);
    const term = onTerminal(
      state,
      ["login", "--provider", "openai-codex", "--timeout", "600"],
      120,
      70,
    );
    const url = (await term.waitFor(URL_LINE))[1];
    // A QR code of the URL in half blocks, then one line per other way, then the spinner.
    await term.waitFor(/\n {2}[█▀▄ ]{40,}\r?\n {2}[█▀▄ ]{40,}/);
    await term.waitFor(/paste +the address the browser ends on/);
    await term.waitFor(/--device +clawauth login --provider openai-codex --device/);
    // No display in this test: the remote ways are offered too.
    await term.waitFor(/ssh -L +on the machine with the browser: ssh -L \d+:127\.0\.0\.1:\d+/);
    const spin = await term.waitFor(
      /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the browser · 0:0\d elapsed · (\d+):\d\d left/,
    );
    assert.ok(Number(spin[1]) >= 9, `remaining ${spin[0]}`);

    // Typing is not echoed; the spinner counts it instead, and Backspace takes it back.
    await term.type("zzqq");
    await term.waitFor(/4 characters pasted, Enter uses them/);
    await term.type("\x7f\x7f\x7f\x7f");
    const callback = await idp.approve(url);
    const code = new URL(callback).searchParams.get("code")!;
    await term.type(`${callback}\r`);
    assert.equal(await term.exit(), 0, term.shown());
    assert.match(term.shown(), /Logged in to OpenAI Codex \(ChatGPT\) as dev@example\.test/);
    assert.ok(
      !term.shown().includes("zzqq"),
      `typed text was echoed: ${
        JSON.stringify(
          term.shown().slice(
            term.shown().indexOf("zzqq") - 300,
            term.shown().indexOf("zzqq") + 100,
          ),
        )
      }`,
    );
    assert.ok(!term.shown().includes(code), "the pasted code stayed on the screen");
    assert.ok(profilesOf(state)["openai-codex:dev@example.test"]);
  },
});

Deno.test({
  name: "login on a narrow terminal: no QR code; Ctrl-C cancels with exit 130 and stores nothing",
  ignore,
  async fn() {
    await using state = await tempState();
    await using idp = await idpFor(state);
    const term = onTerminal(state, ["login", "--provider", "openai-codex"], 60, 40);
    await term.waitFor(/Waiting for the browser · /);
    assert.doesNotMatch(term.shown(), /[█▀▄]{10}/, "a QR code wider than the terminal");
    await term.type("\x03");
    assert.equal(await term.exit(), 130, term.shown());
    assert.match(term.shown(), /The login was cancelled; nothing was stored/);
    assert.throws(() => state.storeText(), Deno.errors.NotFound);
    // The listener is gone with it.
    Deno.listen({ hostname: "127.0.0.1", port: idp.callbackPort }).close();
  },
});
