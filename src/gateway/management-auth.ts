import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { type HttpAnswer, httpError, signatureError } from "../wire.js";

/** One access key pair that may sign `@connections` calls. */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Who may call the `@connections` API:
 * - `open`: anyone (the emulator on a loopback address, as before);
 * - `loopback`: peers on 127.0.0.0/8 or ::1 whose request carries no proxy forwarding header
 *   (a self-hosted gateway without configured keys);
 * - `sigv4`: requests signed with AWS Signature Version 4 (service `execute-api`) by one of
 *   `keys`, as API Gateway's IAM authorization checks them.
 */
export type ManagementAuth =
  | { mode: "open" }
  | { mode: "loopback" }
  | { mode: "sigv4"; keys: readonly AccessKey[]; region: string };

/**
 * How far a request's `X-Amz-Date` may be from the gateway's clock: API Gateway's window
 * (its refusal reads "Signature expired: {date} is now earlier than {now - 5 min} ({now} - 5
 * min.)"; evidence in docs/fidelity.md).
 */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

const ALGORITHM = "AWS4-HMAC-SHA256";
const SERVICE = "execute-api";

/** `127.0.0.0/8`, `::1` and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.replace(/^::ffff:/i, "");
  if (isIP(plain) === 4) return plain.startsWith("127.");
  return plain === "::1";
}

/** A bind address that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || isLoopback(host);
}

/** A request a proxy forwarded: its socket peer is the proxy, not the caller. */
function forwarded(req: IncomingMessage): boolean {
  return (
    req.headers.forwarded !== undefined ||
    req.headers["x-forwarded-for"] !== undefined ||
    req.headers["x-real-ip"] !== undefined
  );
}

/** `20240522T115159Z` → Date, or undefined when it is not that form. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const amzDate = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

interface ParsedAuthorization {
  accessKeyId: string;
  scope: string[];
  signedHeaders: string[];
  signature: string;
}

/**
 * `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api/aws4_request,
 * SignedHeaders=host;x-amz-date, Signature=hex`, or the refusal AWS gives for what is missing.
 */
function parseAuthorization(value: string): ParsedAuthorization | HttpAnswer {
  // API Gateway never echoes the header back: it names its hash.
  const hash = createHash("sha256").update(value).digest("base64");
  const space = value.indexOf(" ");
  const algorithm = space < 0 ? value : value.slice(0, space);
  const pairs = new Map<string, string>();
  for (const part of space < 0 ? [] : value.slice(space + 1).split(",")) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf("=");
    if (eq < 0 || algorithm !== ALGORITHM) {
      return signatureError(
        "SB_ERR_INCOMPLETE_SIGNATURE",
        `Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '${hash}'.`,
      );
    }
    pairs.set(item.slice(0, eq), item.slice(eq + 1));
  }
  const missing = ["Credential", "Signature", "SignedHeaders"].filter((key) => !pairs.get(key));
  if (algorithm !== ALGORITHM || missing.length > 0) {
    return signatureError(
      "SB_ERR_INCOMPLETE_SIGNATURE",
      algorithm !== ALGORITHM
        ? `Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '${hash}'.`
        : `${missing.map((key) => `Authorization header requires '${key}' parameter.`).join(" ")} Authorization=${hash}`,
    );
  }
  const credential = (pairs.get("Credential") as string).split("/");
  return {
    accessKeyId: credential[0] ?? "",
    scope: credential.slice(1),
    signedHeaders: (pairs.get("SignedHeaders") as string).split(";").filter(Boolean),
    signature: pairs.get("Signature") as string,
  };
}

/** The query string as the signer takes it (decoded names and values, repeated ones listed). */
function queryOf(url: string): Record<string, string | string[]> {
  const at = url.indexOf("?");
  const query: Record<string, string | string[]> = {};
  if (at < 0) return query;
  for (const [name, value] of new URLSearchParams(url.slice(at + 1))) {
    const previous = query[name];
    query[name] =
      previous === undefined
        ? value
        : Array.isArray(previous)
          ? [...previous, value]
          : [previous, value];
  }
  return query;
}

/**
 * Check a `@connections` request against the gateway's rule. Returns undefined when it may
 * proceed, or the answer API Gateway gives (403 with `x-amzn-ErrorType`). `body` is the
 * request's whole body (its hash is part of the signature).
 *
 * The signature is recomputed with `@smithy/signature-v4` (the signer the AWS SDK uses) over
 * the request as received: method, path as sent (the signer normalises and encodes it as the
 * client's did), query, the signed headers' values and the body's SHA-256, then compared in
 * constant time.
 */
export async function checkManagementAuth(
  auth: ManagementAuth,
  req: IncomingMessage,
  body: Uint8Array,
  now: Date = new Date(),
): Promise<HttpAnswer | undefined> {
  if (auth.mode === "open") return undefined;
  if (auth.mode === "loopback") {
    return isLoopback(req.socket.remoteAddress) && !forwarded(req)
      ? undefined
      : httpError("SB_ERR_FORBIDDEN");
  }
  const header = req.headers.authorization;
  if (header === undefined || header === "") return signatureError("SB_ERR_MISSING_AUTH_TOKEN");
  const parsed = parseAuthorization(header);
  if ("status" in parsed) return parsed;
  const dateHeader = req.headers["x-amz-date"];
  const signedAt = typeof dateHeader === "string" ? parseAmzDate(dateHeader) : undefined;
  if (!signedAt || !parsed.signedHeaders.includes("x-amz-date")) {
    const hash = createHash("sha256").update(header).digest("base64");
    return signatureError(
      "SB_ERR_INCOMPLETE_SIGNATURE",
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${hash}`,
    );
  }
  const key = auth.keys.find((candidate) => candidate.accessKeyId === parsed.accessKeyId);
  // A session token names temporary credentials, which no configured key pair is.
  if (!key || req.headers["x-amz-security-token"] !== undefined) {
    return signatureError("SB_ERR_UNRECOGNIZED_CLIENT");
  }
  const [shortDate, region, service, terminator] = parsed.scope;
  if (service !== SERVICE || terminator !== "aws4_request" || parsed.scope.length !== 4) {
    return signatureError(
      "SB_ERR_INVALID_SIGNATURE",
      `Credential should be scoped to correct service: '${SERVICE}'. `,
    );
  }
  if (region !== auth.region) {
    return signatureError(
      "SB_ERR_INVALID_SIGNATURE",
      "Credential should be scoped to a valid region. ",
    );
  }
  if (shortDate !== amzDate(signedAt).slice(0, 8)) {
    return signatureError(
      "SB_ERR_INVALID_SIGNATURE",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${shortDate}' != '${amzDate(signedAt).slice(0, 8)}', from '${amzDate(signedAt)}'.`,
    );
  }
  const skew = signedAt.getTime() - now.getTime();
  if (skew < -SIGNATURE_WINDOW_MS) {
    return signatureError(
      "SB_ERR_INVALID_SIGNATURE",
      `Signature expired: ${amzDate(signedAt)} is now earlier than ${amzDate(new Date(now.getTime() - SIGNATURE_WINDOW_MS))} (${amzDate(now)} - 5 min.)`,
    );
  }
  if (skew > SIGNATURE_WINDOW_MS) {
    return signatureError(
      "SB_ERR_INVALID_SIGNATURE",
      `Signature not yet current: ${amzDate(signedAt)} is still later than ${amzDate(new Date(now.getTime() + SIGNATURE_WINDOW_MS))} (${amzDate(now)} + 5 min.)`,
    );
  }
  const bodyHash = createHash("sha256").update(body).digest("hex");
  const claimedHash = req.headers["x-amz-content-sha256"];
  // A client may sign a hash header instead of the body: it must be the body's.
  if (claimedHash !== undefined && claimedHash !== bodyHash) {
    return signatureError("SB_ERR_INVALID_SIGNATURE");
  }
  const headers: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return signatureError("SB_ERR_INVALID_SIGNATURE");
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const url = req.url ?? "/";
  const queryAt = url.indexOf("?");
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    region: auth.region,
    service: SERVICE,
    sha256: Hash.bind(null, "sha256"),
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method ?? "GET",
      protocol: "https:",
      hostname: headers.host ?? "",
      path: queryAt < 0 ? url : url.slice(0, queryAt),
      query: queryOf(url),
      headers,
      body,
    },
    { signingDate: signedAt, signableHeaders: new Set(parsed.signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(signed.headers.authorization ?? "")?.[1] ?? "";
  const given = Buffer.from(parsed.signature);
  const wanted = Buffer.from(expected);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    return signatureError("SB_ERR_INVALID_SIGNATURE");
  }
  return undefined;
}

/**
 * The rule for a gateway bound to `host`: on a loopback address anyone may call (only this
 * machine can reach it, as the emulator always was); on any other, SigV4 with `keys`, or
 * loopback peers only when no keys are configured.
 */
export function managementAuthFor(options: {
  host: string;
  keys: readonly AccessKey[];
  region: string;
  /** `switchboard start`: never open, whatever the host (a proxy may sit on this machine). */
  production?: boolean;
}): ManagementAuth {
  if (options.keys.length > 0) {
    return { mode: "sigv4", keys: options.keys, region: options.region };
  }
  return !options.production && isLoopbackHost(options.host)
    ? { mode: "open" }
    : { mode: "loopback" };
}
