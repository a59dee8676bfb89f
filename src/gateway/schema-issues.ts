import type { StandardSchemaV1 } from "@standard-schema/spec";

/** Issues kept per rejected body, and characters per issue: a log line stays bounded. */
const MAX_ISSUES = 10;
const MAX_ISSUE_CHARS = 200;

/**
 * A body's schema issues as log text, `path: message` each (`text: String must contain at
 * least 1 character(s)`), at most {@link MAX_ISSUES}. For the log only: the client gets API
 * Gateway's fixed `Bad request body` frame, which names no issue.
 */
export function describeIssues(issues: ReadonlyArray<StandardSchemaV1.Issue>): string[] {
  const out = issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = (issue.path ?? [])
      .map((segment) => String(typeof segment === "object" ? segment.key : segment))
      .join(".");
    const text = path ? `${path}: ${issue.message}` : issue.message;
    return text.length > MAX_ISSUE_CHARS ? `${text.slice(0, MAX_ISSUE_CHARS)}…` : text;
  });
  if (issues.length > MAX_ISSUES) out.push(`… and ${issues.length - MAX_ISSUES} more`);
  return out;
}
