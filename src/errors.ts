/**
 * The one catalogue of error codes. Each code carries its message, the HTTP status it maps to
 * (on the `@connections` API, a refused handshake, or the CLI's exit report), AWS's
 * `x-amzn-ErrorType` where API Gateway sends one, and the WebSocket close code where the error
 * ends a connection. The gateway's bytes on the wire are built from these entries in one place
 * (`src/gateway/wire.ts`); docs/errors.md documents every code (a test keeps them in step).
 */
export const ERRORS = {
  // Configuration, build and deployment.
  SB_ERR_CONFIG: { message: "Invalid configuration", status: 500 },
  SB_ERR_TEMPLATE: { message: "Invalid CloudFormation template", status: 500 },
  SB_ERR_BUILD: { message: "Build failed", status: 500 },
  SB_ERR_DEPLOY: { message: "Deployment failed", status: 500 },
  SB_ERR_REDIS: {
    message: "Redis is unreachable",
    status: 503,
    type: "ServiceUnavailableException",
  },
  SB_ERR_NODE_TIMEOUT: {
    message: "The node holding the connection did not answer in time; nothing was sent",
    status: 503,
    type: "ServiceUnavailableException",
  },
  // Answers of the `@connections` API and of the handshake.
  SB_ERR_GONE: { message: "Connection is gone", status: 410, type: "GoneException" },
  SB_ERR_FORBIDDEN: { message: "Forbidden", status: 403, type: "ForbiddenException" },
  SB_ERR_UNAUTHORIZED: { message: "Unauthorized", status: 401 },
  SB_ERR_UPGRADE_REQUIRED: { message: "Upgrade Required", status: 426 },
  SB_ERR_BAD_HANDSHAKE: { message: "Bad Request", status: 400 },
  SB_ERR_PAYLOAD_TOO_LARGE: {
    message: "Request entity too large",
    status: 413,
    type: "PayloadTooLargeException",
  },
  SB_ERR_LIMIT_EXCEEDED: { message: "Limit exceeded", status: 429, type: "LimitExceededException" },
  // Signature checks on `@connections` (`switchboard start`, or `dev` on a non-loopback host).
  SB_ERR_MISSING_AUTH_TOKEN: {
    message: "Missing Authentication Token",
    status: 403,
    type: "MissingAuthenticationTokenException",
  },
  SB_ERR_INCOMPLETE_SIGNATURE: {
    message: "Incomplete signature",
    status: 403,
    type: "IncompleteSignatureException",
  },
  SB_ERR_INVALID_SIGNATURE: {
    message:
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    status: 403,
    type: "InvalidSignatureException",
  },
  SB_ERR_UNRECOGNIZED_CLIENT: {
    message: "The security token included in the request is invalid.",
    status: 403,
    type: "UnrecognizedClientException",
  },
  SB_ERR_DRAINING: { message: "Service Unavailable", status: 503 },
  SB_ERR_INTERNAL: {
    message: "Internal server error",
    status: 500,
    type: "InternalServerErrorException",
  },
  // What ends a connection.
  SB_ERR_MESSAGE_TOO_BIG: { message: "Message too big", status: 413, close: 1009 },
  SB_ERR_BINARY_FRAME: { message: "Binary frames are not supported", status: 400, close: 1003 },
  SB_ERR_GOING_AWAY: { message: "Going away", status: 410, close: 1001 },
  SB_ERR_TOO_MANY_REQUESTS: { message: "Too many requests", status: 429, close: 1008 },
  // Integration outcomes (error frames, and `$connect`/authorizer answers).
  SB_ERR_HANDLER_TIMEOUT: { message: "Endpoint request timed out", status: 504 },
  SB_ERR_HANDLER_FAILED: { message: "Internal server error", status: 502 },
  SB_ERR_BAD_REQUEST_BODY: { message: "Bad request body", status: 400 },
} as const satisfies Record<
  string,
  { message: string; status: number; type?: string; close?: number }
>;

export type ErrorCode = keyof typeof ERRORS;

/** An error from Switchboard itself, with a stable code. */
export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options);
    this.name = "SwitchboardError";
    this.code = code;
    this.status = ERRORS[code].status;
  }
}

/** One problem in a config file, located like a compiler diagnostic. */
export interface ConfigIssue {
  /** Absolute or project-relative path of the file. */
  file: string;
  /** 1-based line and column, when the format keeps positions (YAML, JSON). */
  line?: number;
  column?: number;
  /** Path inside the document, e.g. `routes.send.handler`. */
  path: string;
  expected: string;
  found: string;
}

/** `file:line:col path`: where a config issue or load warning is (the path `(root)` when empty). */
export function formatConfigPlace(place: Omit<ConfigIssue, "expected" | "found">): string {
  const where =
    place.line !== undefined
      ? `${place.file}:${place.line}${place.column !== undefined ? `:${place.column}` : ""}`
      : place.file;
  return `${where} ${place.path || "(root)"}`;
}

/** `file:line:col path — expected X, found Y` */
export function formatConfigIssue(issue: ConfigIssue): string {
  return `${formatConfigPlace(issue)} — expected ${oneLine(issue.expected)}, found ${oneLine(issue.found)}`;
}

/**
 * An issue is one line: a multi-line text (a build error's details, a parser's snippet) has its
 * lines joined with "; ", and other control characters escaped, so nothing read from a config
 * or a module moves the terminal's cursor.
 */
function oneLine(text: string): string {
  return text
    .trim()
    .split(/\s*\r?\n\s*/)
    .join("; ")
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}

/**
 * The message of an error that reports several problems at once: a count, then one indented
 * line each.
 *
 * @example
 * ```ts
 * problemList("the app config", ["a.yaml:3:1 name — expected ..."]);
 * // "1 problem in the app config:\n  a.yaml:3:1 name — expected ..."
 * ```
 */
export function problemList(where: string, problems: readonly string[]): string {
  return `${problems.length} problem${problems.length === 1 ? "" : "s"} in ${where}:\n${problems
    .map((problem) => `  ${problem}`)
    .join("\n")}`;
}

/** Every problem found in a config, reported at once. */
export class ConfigError extends SwitchboardError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super("SB_ERR_CONFIG", problemList("the app config", issues.map(formatConfigIssue)));
    this.name = "ConfigError";
    this.issues = issues;
  }
}
