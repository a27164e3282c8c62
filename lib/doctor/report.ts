/**
 * What a `doctor` run collects: findings, repairs, and the helpers every check shares.
 *
 * @module
 */

import { safeText } from "../output/output.ts";
import type { StoreKind } from "../store/kind.ts";
import type { Context } from "../context.ts";

/** How bad a finding is. */
export type Severity = "ok" | "warning" | "error";

/** One result of a check. */
export interface Finding {
  /** The check that produced it, e.g. `store` or `permissions`. */
  check: string;
  /** `error` makes `doctor` exit 1. */
  severity: Severity;
  /** One line a person can read. */
  message: string;
  /** The command (or step) that fixes it. */
  fix?: string;
  /** The agent it concerns, when it concerns one. */
  agent?: string;
  /** The file or directory it concerns, when there is one. */
  path?: string;
}

/** One repair `--fix` made. */
export interface Repair {
  /** The check whose finding was repaired. */
  check: string;
  /** What was done. */
  message: string;
  /** The file or directory repaired. */
  path: string;
}

/** What a doctor run found and repaired. */
export interface DoctorReport {
  /** The agent given with `--agent`, or `null` when every agent was checked. */
  agent: string | null;
  /** The agents checked. */
  agents: string[];
  /** The state dir. */
  stateDir: string;
  /** The store backend checked. */
  store: StoreKind;
  /** Every finding, in check order. */
  findings: Finding[];
  /** What `--fix` repaired. */
  fixed: Repair[];
}

/** Options of {@linkcode runDoctor}. */
export interface DoctorOptions {
  /** The state dir. */
  stateDir: string;
  /** The store backend of this run. */
  backend: StoreKind;
  /** Check only this agent; every agent of the state dir when absent. */
  agent?: string;
  /** clawauth's config file. */
  configPath: string;
  /** Repair what is safe to repair. */
  fix: boolean;
  /** Compare the local clock with the OAuth providers' `Date` header. */
  online: boolean;
}

/** Collects findings and repairs for one run. */
export class Doctor {
  readonly findings: Finding[] = [];
  readonly fixed: Repair[] = [];
  constructor(readonly ctx: Context, readonly fix: boolean) {}

  add(finding: Finding): void {
    this.findings.push(finding);
  }

  /** Runs `repair` when `--fix` is on; reports the problem (or the repair). */
  repairable(
    finding: Finding & { path: string },
    repair: () => void,
    done: string,
  ): void {
    if (!this.fix) {
      this.add({ ...finding, fix: "clawauth doctor --fix" });
      return;
    }
    try {
      repair();
    } catch (error) {
      this.add({
        ...finding,
        message: `${finding.message}; --fix failed: ${errorText(error)}`,
      });
      return;
    }
    this.fixed.push({ check: finding.check, message: done, path: finding.path });
    this.add({ ...finding, severity: "ok", message: `${finding.message}; fixed: ${done}` });
  }
}

/** An error as one printable line. */
export function errorText(error: unknown): string {
  return safeText(error instanceof Error ? error.message : String(error), 200);
}

/** The entries of `dir`, or none when it does not exist. */
export function listDir(dir: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}
