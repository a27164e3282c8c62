/**
 * `clawauth setup-token`: get a long-lived Claude token from `claude
 * setup-token` (run here when Claude Code is installed, else anywhere) and
 * store it like `paste-token`.
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import type { Context } from "../context.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { findProvider } from "../../providers/index.ts";
import { NO_SECRET_ARGUMENT, PASTE_FLAGS, runPaste } from "./paste_token.ts";

const YEAR_MS = 365 * 86_400_000;

/** The first executable named `name` on `$PATH`, if any. */
export function onPath(ctx: Context, name: string): string | undefined {
  const dirs = (ctx.env("PATH") ?? "").split(Deno.build.os === "windows" ? ";" : ":");
  const names = Deno.build.os === "windows" ? [`${name}.exe`, `${name}.cmd`] : [name];
  for (const dir of dirs.filter(Boolean)) {
    for (const file of names) {
      try {
        const info = Deno.statSync(`${dir}/${file}`);
        if (info.isFile && (Deno.build.os === "windows" || ((info.mode ?? 0) & 0o111) !== 0)) {
          return `${dir}/${file}`;
        }
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

async function runClaude(ctx: Context): Promise<void> {
  if (!ctx.stdinIsTTY) return; // scripted: the token comes on stdin
  const claude = onPath(ctx, "claude");
  if (!claude) {
    ctx.err(
      "Claude Code (claude) is not installed here. On any machine that has it, run:\n\n" +
        "  claude setup-token\n\nthen paste the token it prints below.\n",
    );
    return;
  }
  ctx.err("Running `claude setup-token` (it opens a browser); copy the token it prints.\n");
  const { code } = await new Deno.Command(claude, {
    args: ["setup-token"],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (code !== 0) {
    throw new ClawauthError(
      `claude setup-token exited with ${code}.`,
      Exit.failure,
      "Run it again, or paste a token from another machine: clawauth paste-token --provider anthropic",
    );
  }
}

/** The `setup-token` command. */
export const command = defineCommand({
  argumentNote: NO_SECRET_ARGUMENT,
  flags: PASTE_FLAGS,
  help:
    `Usage: clawauth setup-token --provider anthropic [--profile NAME] [--expires-in 365d] [--json]

Stores a long-lived Claude token (sk-ant-oat01-…, no refresh). On a terminal
with Claude Code installed it runs \`claude setup-token\` first; otherwise run
that on any machine with Claude Code and paste the token here (or pipe it).
An API key (sk-ant-api03-…) is stored as an api_key profile instead.

Flags:
  --provider ID       anthropic
  --profile NAME      profile name (default: default)
  --expires-in SPAN   token lifetime (default 365d, what claude setup-token issues)
  --json              print {"profile","provider","type","expires","replaced"}
${GLOBAL_HELP}

Examples:
  clawauth setup-token --provider anthropic --profile work
  ssh laptop claude setup-token | clawauth setup-token --provider anthropic`,
  run(ctx, args) {
    const { provider } = args;
    if (provider !== undefined && findProvider(provider)?.login !== "setup-token") {
      throw usageError(
        `setup-token is for anthropic; for ${provider} use paste-token or login.`,
        "setup-token",
      );
    }
    return runPaste(ctx, args, {
      command: "setup-token",
      beforeRead: () => runClaude(ctx),
      defaultExpiresMs: YEAR_MS,
    });
  },
});
