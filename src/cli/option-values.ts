import { statSync } from "node:fs";
import path from "node:path";
import { InvalidArgumentError } from "commander";
import { isStageName, STAGE_EXPECTED } from "../app/rules.js";
import { parseRedisUrl, RedisUrlError } from "../cluster/redis-url.js";

/*
 * Parsers for command-line option values. Commander calls them while it reads the command
 * line, so a bad value is refused (exit 1, one line naming the option) before any app is
 * loaded or any port opened.
 */

/**
 * `--port`: an integer 0-65535 (0 asks the system for a free port).
 *
 * @example
 * ```ts
 * program.option("-p, --port <port>", "port", port, 3001);
 * ```
 */
export function port(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError("expected a port number 0-65535 (0 picks a free port).");
  }
  return n;
}

/** A whole number of milliseconds, 0 or more (`--wait`). */
export function milliseconds(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("expected milliseconds, e.g. 500.");
  return n;
}

/** A number above 0 (`--throttle-rate`). */
export function positiveNumber(value: string): number {
  const n = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number.");
  return n;
}

/** A whole number above 0 (`--throttle-burst`, `--log-retention`). */
export function positiveInteger(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError("expected a whole number above 0.");
  }
  return n;
}

/**
 * The retention periods CloudWatch Logs accepts (`RetentionInDays`, PutRetentionPolicy API
 * reference); any other number fails the deployment.
 */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** `--log-retention`: one of {@link LOG_RETENTION_DAYS}. */
export function logRetentionDays(value: string): number {
  const n = Number(value);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(n)) {
    throw new InvalidArgumentError(`expected one of ${LOG_RETENTION_DAYS.join(", ")} (days).`);
  }
  return n;
}

/** The `[app]` argument: a file or folder that exists, as given. */
export function existingPath(value: string): string {
  if (!statSync(path.resolve(value), { throwIfNoEntry: false })) {
    throw new InvalidArgumentError(
      `no such file or folder ${path.resolve(value)}: name the app folder or its config file.`,
    );
  }
  return value;
}

/** A folder that exists (`--static`), as given. */
export function existingDirectory(value: string): string {
  const stat = statSync(path.resolve(value), { throwIfNoEntry: false });
  if (!stat) throw new InvalidArgumentError(`no such folder ${path.resolve(value)}.`);
  if (!stat.isDirectory()) throw new InvalidArgumentError(`${value} is a file, not a folder.`);
  return value;
}

/** Something that is not empty (names, stages, regions). */
export function nonEmpty(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("expected a value, found nothing.");
  return value;
}

/** A stage name as API Gateway accepts it (`--stage`). */
export function stageName(value: string): string {
  if (!isStageName(value)) throw new InvalidArgumentError(`expected ${STAGE_EXPECTED}.`);
  return value;
}

/**
 * A Redis URL (`--redis`): `redis://host:port[/db]`, `redis+cluster://host:port,host:port`,
 * `redis+sentinel://host:port,host:port/<master>[/db]`, or `rediss...` for TLS.
 */
export function redisUrl(value: string): string {
  try {
    parseRedisUrl(value);
  } catch (error) {
    if (!(error instanceof RedisUrlError)) throw error;
    throw new InvalidArgumentError(`${error.message} (e.g. redis://127.0.0.1:6379).`);
  }
  return value;
}

/**
 * An S3 bucket name (3-63 characters: lowercase letters, digits, dots, hyphens; starting and
 * ending with a letter or digit), as S3's naming rules require (`--bucket`).
 */
export function bucketName(value: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value)) {
    throw new InvalidArgumentError(
      "expected an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens.",
    );
  }
  return value;
}

/**
 * A CloudFormation stack name: a letter, then letters, digits and hyphens, 128 at most
 * (CloudFormation's rule for `StackName`).
 */
export function stackName(value: string): string {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(value)) {
    throw new InvalidArgumentError(
      "expected a stack name: a letter, then letters, digits or hyphens (128 at most).",
    );
  }
  return value;
}

/** A domain name such as `ws.example.com` (`--domain`). */
export function domainName(value: string): string {
  if (
    value.length > 253 ||
    !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(value)
  ) {
    throw new InvalidArgumentError("expected a domain name such as ws.example.com.");
  }
  return value;
}

/** An ACM certificate ARN (`--certificate-arn`). */
export function certificateArn(value: string): string {
  if (!/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(value)) {
    throw new InvalidArgumentError(
      "expected an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<id>.",
    );
  }
  return value;
}

/** A Route 53 hosted zone id such as `Z1D633PJN98FT9` (`--hosted-zone-id`). */
export function hostedZoneId(value: string): string {
  if (!/^[A-Z0-9]{1,32}$/.test(value)) {
    throw new InvalidArgumentError("expected a Route 53 hosted zone id such as Z1D633PJN98FT9.");
  }
  return value;
}

/** An AWS region such as `eu-west-1` (`--region`). */
export function awsRegion(value: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(value)) {
    throw new InvalidArgumentError("expected an AWS region such as eu-west-1.");
  }
  return value;
}

/** `--header name:value`, repeatable: the pairs in order. */
export function headerPair(value: string, previous: Array<[string, string]> = []) {
  const at = value.indexOf(":");
  const name = at < 0 ? "" : value.slice(0, at).trim();
  // RFC 9110 token characters; Node refuses anything else when it sends the request.
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new InvalidArgumentError("expected name:value, e.g. Authorization:allow-alice.");
  }
  const text = value.slice(at + 1).trim();
  if (/[\r\n\0]/.test(text)) throw new InvalidArgumentError("a header value is one line.");
  return [...previous, [name, text] as [string, string]];
}

/** `--query name=value`, repeatable: the pairs in order. */
export function queryPair(value: string, previous: Array<[string, string]> = []) {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("expected name=value, e.g. user=alice.");
  return [...previous, [value.slice(0, at), value.slice(at + 1)] as [string, string]];
}

/** Repeatable text values in order (`--send`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
