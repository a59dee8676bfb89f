import { describe, expect, it } from "vitest";
import { identitySourcesPresent, policyAllows } from "../../src/gateway/authorizer.js";
import { buildHandshake } from "../../src/gateway/events.js";
import type { WebSocketAuthorizerResult } from "../../src/runtime/events.js";

const ARN = "arn:aws:execute-api:us-east-1:000000000000:abc/dev/$connect";
const client = { sourceIp: "1.2.3.4", port: 3001, proto: "http" as const, now: 0 };

function policy(statement: unknown): WebSocketAuthorizerResult {
  return {
    principalId: "u",
    policyDocument: { Version: "2012-10-17", Statement: statement as never },
  };
}

describe("authorizer checks", () => {
  it("counts only identity sources the request really has (no prototype names)", () => {
    const handshake = buildHandshake(["Auth", "t"], "?token=x", client);
    expect(identitySourcesPresent(["route.request.querystring.token"], handshake)).toBe(true);
    expect(identitySourcesPresent(["route.request.header.auth"], handshake)).toBe(true);
    expect(identitySourcesPresent(["route.request.querystring.constructor"], handshake)).toBe(
      false,
    );
    expect(identitySourcesPresent(["route.request.querystring.toString"], handshake)).toBe(false);
    expect(identitySourcesPresent(["stageVariables.hasOwnProperty"], handshake)).toBe(false);
    const empty = buildHandshake([], "?token=", client);
    expect(identitySourcesPresent(["route.request.querystring.token"], empty)).toBe(false);
  });

  it("evaluates IAM policies: Allow on the method ARN, explicit Deny wins, one statement object works", () => {
    const allow = { Action: "execute-api:Invoke", Effect: "Allow", Resource: ARN };
    const deny = { Action: "execute-api:*", Effect: "Deny", Resource: "arn:aws:execute-api:*" };
    expect(policyAllows(policy([allow]), ARN)).toBe(true);
    expect(policyAllows(policy(allow), ARN)).toBe(true);
    expect(policyAllows(policy([allow, deny]), ARN)).toBe(false);
    expect(policyAllows(policy([{ ...allow, Resource: `${ARN}x` }]), ARN)).toBe(false);
    expect(
      policyAllows(policy([{ ...allow, Resource: "arn:aws:execute-api:*:*:abc/*" }]), ARN),
    ).toBe(true);
    expect(policyAllows(policy(undefined), ARN)).toBe(false);
  });
});
