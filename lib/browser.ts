/**
 * Opening the authorize URL: `$BROWSER` when set, else the platform opener,
 * and nothing on headless machines (SSH sessions, CI, no display).
 *
 * @module
 */

import type { Context } from "./context.ts";

/** Whether this looks like a machine with nobody at a graphical display. */
export function isHeadless(ctx: Context): boolean {
  if (ctx.env("CI") || ctx.env("SSH_CONNECTION") || ctx.env("SSH_TTY")) {
    return true;
  }
  return Deno.build.os === "linux" && !ctx.env("DISPLAY") &&
    !ctx.env("WAYLAND_DISPLAY");
}

function opener(ctx: Context): [string, string[]] | undefined {
  const browser = ctx.env("BROWSER");
  if (browser) return [browser, []];
  if (isHeadless(ctx)) return undefined;
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
