/**
 * git: `clawauth git-credential` as the credential helper of one host, set
 * with `git config --global` (which honours `GIT_CONFIG_GLOBAL`), so git
 * itself writes its file. The helper list of that URL gets an empty entry
 * first (git's way to drop helpers configured before, which would answer
 * with a stale password) and then clawauth's. git runs the helper on every
 * command that talks to the host; after a 401 it calls `erase`, which makes
 * clawauth refresh an OAuth token before the next `get`.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { exists, readTextIfExists, writeFileAtomic } from "../fs/files.ts";
import type { JsonObject } from "../json/json.ts";
import { warn } from "../output/output.ts";
import { join } from "../paths.ts";
import { deleteRecord, readRecord, recordPath, recordProgramEdit } from "./record.ts";
import { indent } from "./report.ts";
import { gitTargetFor, helperUrl } from "./git_hosts.ts";
import { selectionWords, shellLine } from "./self_command.ts";
import { warnIfUnservable } from "./servable.ts";
import type { ToolAdapter, ToolRun } from "./tool.ts";

const TOOL = "git";
/** The host `connect git` serves when none is named. */
const DEFAULT_HOST = "github.com";

/** What one git command printed and how it exited. */
interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function git(args: string[]): Promise<GitResult> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("git", {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ClawauthError(
        "git is not on PATH.",
        Exit.failure,
        "Install git, then run the command again.",
      );
    }
    throw error;
  }
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs `git config --global …`; `allowed` lists exit codes that are not failures. */
async function gitConfig(args: string[], allowed: number[] = [0]): Promise<GitResult> {
  const result = await git(["config", "--global", ...args]);
  if (!allowed.includes(result.code)) {
    throw new ClawauthError(
      `git config --global ${args[0]} failed (exit ${result.code}): ${
        result.stderr.trim().split("\n")[0] ?? ""
      }`,
      Exit.failure,
      "Check your global git config (git config --global --list).",
    );
  }
  return result;
}

/** The file `git config --global` writes: `$GIT_CONFIG_GLOBAL`, else `~/.gitconfig` or the XDG one. */
export function gitGlobalFile(ctx: Context): string {
  const explicit = ctx.env("GIT_CONFIG_GLOBAL");
  if (explicit) return explicit;
  const home = ctx.env("HOME") || ctx.env("USERPROFILE") || "";
  const dotfile = join(home, ".gitconfig");
  const xdg = join(ctx.env("XDG_CONFIG_HOME") || join(home, ".config"), "git", "config");
  return !exists(dotfile) && exists(xdg) ? xdg : dotfile;
}

/** A regular expression that matches `text` literally (POSIX ERE, as git reads it). */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

async function helpersOf(key: string): Promise<string[]> {
  const result = await gitConfig(["--get-all", key], [0, 1]);
  return result.code === 1 ? [] : result.stdout.replace(/\n$/, "").split("\n");
}

async function sectionHasKeys(url: string): Promise<boolean> {
  const result = await gitConfig(["--get-regexp", `^credential\\.${literal(url)}\\.`], [0, 1]);
  return result.code === 0;
}

/** Saves the global file's current content beside it before git changes it. */
function backup(file: string): string | undefined {
  const text = readTextIfExists(file);
  if (text === undefined) return undefined;
  const path = `${file}.clawauth-backup`;
  writeFileAtomic(path, text);
  return path;
}

interface GitUndo {
  url: string;
  valuesBefore: string[];
  added: string[];
  sectionExisted: boolean;
  fileExisted: boolean;
}

/** The record of git's helper for one URL in one global file. */
async function recordFor(run: ToolRun, where: { file: string; url: string }): Promise<string> {
  return await recordPath(run.paths.stateDir, { tool: TOOL, file: `${where.file}#${where.url}` });
}

/** The `git` adapter. */
export const gitTool: ToolAdapter = {
  name: TOOL,
  summary: "credential helper for one host via git config --global (--host, default github.com)",
  flags: ["host"],
  selects: true,
  async connect(run) {
    const { ctx } = run;
    const url = helperUrl(run.host ?? DEFAULT_HOST);
    const key = `credential.${url}.helper`;
    const selection = selectionWords(run.request);
    // A chosen login answers this origin only, never every host git asks about.
    const scope = selection.length > 0 ? ["--host", url] : [];
    const helper = `!${
      shellLine([...run.self, "git-credential", ...run.state, ...selection, ...scope])
    }`;
    const file = gitGlobalFile(ctx);
    const current = await helpersOf(key);
    const done = current.length >= 2 && current[current.length - 2] === "" &&
      current[current.length - 1] === helper;
    const snippet = `[credential "${url}"]\n\thelper =\n\thelper = ${helper}`;
    if (done || run.dryRun) {
      ctx.out(
        `${done ? `git was already connected: ${file} holds` : `Would add to ${file}:`}\n${
          indent(snippet)
        }\n`,
      );
      return;
    }
    const recordAt = await recordFor(run, { file, url });
    const previous = readRecord(recordAt)?.undo as unknown as GitUndo | undefined;
    const saved = backup(file);
    // A re-connect (another profile) first takes out what the last one added.
    for (const value of previous?.added ?? []) {
      if (value !== "") await gitConfig(["--fixed-value", "--unset-all", key, value], [0, 5]);
    }
    const before = previous?.valuesBefore ?? current;
    const sectionExisted = previous?.sectionExisted ?? await sectionHasKeys(url);
    const fileExisted = previous?.fileExisted ?? exists(file);
    const now = await helpersOf(key);
    const added = now[now.length - 1] === "" ? [helper] : ["", helper];
    for (const value of added) await gitConfig(["--add", key, value]);
    await recordProgramEdit(recordAt, {
      tool: TOOL,
      file,
      undo: {
        url,
        valuesBefore: before,
        added: previous ? [...new Set([...previous.added, ...added])] : added,
        sectionExisted,
        fileExisted,
      } as unknown as JsonObject,
    });
    const lines = [`Connected git for ${url}: ${file} now holds`, indent(snippet)];
    if (saved) lines.push(`The previous file is kept as ${saved}.`);
    lines.push(
      "git runs the helper for every command that talks to the host; after a 401 it calls erase, and clawauth refreshes an OAuth token before the next get.",
    );
    ctx.out(`${lines.join("\n")}\n`);
    const target = gitTargetFor(run.paths.config, {
      host: new URL(url).host,
      explicit: run.request,
      scoped: true,
    });
    if (target) await warnIfUnservable(run, target.request);
    else {
      warn(
        ctx,
        `clawauth has no login mapped to ${url}: pass --provider or --profile, or map the host in clawauth.json ("git": {"hosts": {…}}).`,
      );
    }
  },
  async disconnect(run) {
    const { ctx } = run;
    const url = helperUrl(run.host ?? DEFAULT_HOST);
    const key = `credential.${url}.helper`;
    const file = gitGlobalFile(ctx);
    const recordAt = await recordFor(run, { file, url });
    const undo = readRecord(recordAt)?.undo as unknown as GitUndo | undefined;
    if (undo === undefined) {
      ctx.out(`clawauth has no record of connecting git for ${url} in ${file}; nothing to undo.\n`);
      return;
    }
    if (run.dryRun) {
      ctx.out(`Would remove clawauth's credential helper for ${url} from ${file}.\n`);
      return;
    }
    const saved = backup(file);
    for (const value of undo.added) {
      // An empty entry the user had already cannot be told from ours: keep them all then.
      if (value === "" && undo.valuesBefore.includes("")) continue;
      await gitConfig(["--fixed-value", "--unset-all", key, value], [0, 5]);
    }
    if (!undo.sectionExisted && !(await sectionHasKeys(url))) {
      await gitConfig(["--remove-section", `credential.${url}`], [0, 128]);
    }
    if (!undo.fileExisted && (readTextIfExists(file) ?? "").trim() === "") {
      try {
        Deno.removeSync(file);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    deleteRecord(recordAt);
    const lines = [`Removed clawauth's credential helper for ${url} from ${file}.`];
    if (saved) lines.push(`The previous file is kept as ${saved}.`);
    ctx.out(`${lines.join("\n")}\n`);
  },
};
