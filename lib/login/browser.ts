/**
 * Where the person finishing a login is, as far as this process can tell,
 * and opening the authorize URL there: `$BROWSER` when set, else the
 * platform opener, and nothing where there is no display.
 *
 * @module
 */

import type { Context } from "../context.ts";

/**
 * - `desktop`: a display here; open the browser, listen, accept a paste.
 * - `remote`: an SSH session, no display, or CI on a terminal; print the
 *   URL, listen, accept a paste, and point at `--device` and `--via`.
 * - `ci`: CI with nothing typing on stdin; nobody can finish a browser
 *   login, so it fails fast (the device flow and `--start` still run).
 */
export type LoginSetting = "desktop" | "remote" | "ci";

function isSet(value: string | undefined): boolean {
  return value !== undefined && !["", "0", "false"].includes(value.toLowerCase());
}

/** Decides the {@linkcode LoginSetting} from the environment and whether stdin is a terminal. */
export function loginSetting(
  env: (name: string) => string | undefined,
  stdinIsTTY: boolean,
  os: typeof Deno.build.os = Deno.build.os,
): LoginSetting {
  const ci = isSet(env("CI"));
  if (ci && !stdinIsTTY) return "ci";
  if (ci || env("SSH_CONNECTION") || env("SSH_TTY")) return "remote";
  const graphical = os === "darwin" || os === "windows" || !!env("DISPLAY") ||
    !!env("WAYLAND_DISPLAY");
  return graphical ? "desktop" : "remote";
}

function opener(ctx: Context): [string, string[]] | undefined {
  const browser = ctx.env("BROWSER");
  if (browser) return [browser, []];
  if (loginSetting(ctx.env, ctx.stdinIsTTY) !== "desktop") return undefined;
  if (Deno.build.os === "darwin") return ["open", []];
  // rundll32 takes the URL verbatim, where `start` would split it at "&".
  if (Deno.build.os === "windows") {
    return ["rundll32", ["url.dll,FileProtocolHandler"]];
  }
  return ["xdg-open", []];
}

/** Starts a browser on `url` without waiting for it; returns whether one was started. */
export function openBrowser(ctx: Context, url: string): boolean {
  const command = opener(ctx);
  if (!command) return false;
  try {
    const child = new Deno.Command(command[0], {
      args: [...command[1], url],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    child.status.catch(() => {});
    return true;
  } catch {
    return false;
  }
}
