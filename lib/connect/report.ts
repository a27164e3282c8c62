/**
 * What `connect` and `disconnect` tell the user: which file, the exact
 * entry, the backup, and how the tool caches what it gets. Never a secret:
 * only commands that fetch one are shown.
 *
 * @module
 */

import type { Context } from "../context.ts";

/** The facts of one connect, for {@linkcode reportConnected}. */
export interface ConnectedReport {
  tool: string;
  file: string;
  dryRun: boolean;
  /** Whether the file changes (false: it already holds this entry). */
  changed: boolean;
  backup?: string;
  /** The entry as it reads in the file. */
  snippet: string;
  /** When the tool asks again. */
  caching: string;
}

/** Prints what connect did (or would do). */
export function reportConnected(ctx: Context, report: ConnectedReport): void {
  const head = report.dryRun
    ? report.changed ? `Would write to ${report.file}:` : `${report.file} already holds:`
    : report.changed
    ? `Connected ${report.tool}: ${report.file} now holds`
    : `${report.tool} was already connected: ${report.file} holds`;
  const lines = [head, indent(report.snippet)];
  if (report.backup) lines.push(`The previous file is kept as ${report.backup}.`);
  lines.push(report.caching);
  ctx.out(`${lines.join("\n")}\n`);
}

/** The facts of one disconnect. */
export interface DisconnectedReport {
  tool: string;
  file: { path: string };
  how: "none" | "restored" | "removed";
  backup?: string;
  dryRun: boolean;
}

/** Prints what disconnect did (or would do). */
export function reportDisconnected(ctx: Context, report: DisconnectedReport): void {
  const { path } = report.file;
  const verb = report.dryRun ? "Would" : "";
  const line = report.how === "none"
    ? `clawauth has no record of connecting ${report.tool} to ${path}; nothing to undo.`
    : report.how === "restored"
    ? `${
      verb ? "Would put" : "Put"
    } ${path} back as it was before clawauth connected ${report.tool}.`
    : `${
      verb ? "Would remove" : "Removed"
    } clawauth's entries from ${path}; other changes made since are kept.`;
  const lines = [line];
  if (report.backup) lines.push(`The previous file is kept as ${report.backup}.`);
  ctx.out(`${lines.join("\n")}\n`);
}

/** Indents every line of a snippet by two spaces. */
export function indent(text: string): string {
  return text.split("\n").map((line) => line === "" ? line : `  ${line}`).join("\n");
}
