/** Headless detection: which path a login takes, as a table over env and TTY. */

import assert from "node:assert/strict";
import { type LoginSetting, loginSetting } from "../../lib/login/browser.ts";

const CASES: [
  env: Record<string, string>,
  stdinIsTTY: boolean,
  os: typeof Deno.build.os,
  want: LoginSetting,
][] = [
  // A desktop: open the browser.
  [{ DISPLAY: ":0" }, true, "linux", "desktop"],
  [{ WAYLAND_DISPLAY: "wayland-0" }, true, "linux", "desktop"],
  [{}, true, "darwin", "desktop"],
  [{}, true, "windows", "desktop"],
  [{ DISPLAY: ":0" }, false, "linux", "desktop"], // piped stdin on a desktop: still a person's browser
  // Over SSH or without a display: print, listen, paste.
  [{}, true, "linux", "remote"],
  [{}, true, "freebsd", "remote"],
  [{ DISPLAY: ":0", SSH_CONNECTION: "10.0.0.2 5000 10.0.0.1 22" }, true, "linux", "remote"],
  [{ SSH_TTY: "/dev/pts/3" }, true, "darwin", "remote"],
  [{ SSH_CONNECTION: "10.0.0.2 5000 10.0.0.1 22" }, false, "linux", "remote"], // a pipe still pastes
  [{}, false, "linux", "remote"], // a file or pipe on stdin outside CI is a paste source
  // CI: nobody can answer, so fail fast; unless someone is at a terminal.
  [{ CI: "true" }, false, "linux", "ci"],
  [{ CI: "1", DISPLAY: ":0" }, false, "linux", "ci"],
  [{ CI: "true" }, false, "darwin", "ci"],
  [{ CI: "true" }, true, "linux", "remote"],
  [{ CI: "true", BROWSER: "/usr/local/bin/headless-browser" }, false, "linux", "ci"],
  [{ CI: "false", DISPLAY: ":0" }, false, "linux", "desktop"],
  [{ CI: "0" }, false, "darwin", "desktop"],
  [{ CI: "" }, false, "darwin", "desktop"],
];

Deno.test("loginSetting: desktop, remote or CI from the environment and stdin", () => {
  for (const [env, tty, os, want] of CASES) {
    assert.equal(
      loginSetting((name) => env[name], tty, os),
      want,
      `${JSON.stringify(env)} stdinIsTTY=${tty} on ${os}`,
    );
  }
});
